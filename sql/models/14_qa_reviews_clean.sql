-- qa_reviews_clean: one row per QA review (first row of each review_id) of an appeal in
-- appeals_base, reviewed at or before :as_of. Other rows are counted by data checks.
select review_id, appeal_id, reviewer_id, reviewed_at, decision_correct, score, error_category
from (
    select
        q.*,
        row_number() over (partition by q.review_id order by q.reviewed_at, q.appeal_id collate "C") as id_rank
    from stg_qa_reviews as q
    where q.review_id is not null and q.reviewed_at is not null and q.decision_correct is not null
) as ranked
where id_rank = 1
  and reviewed_at <= cast(:as_of as timestamp with time zone)
  and appeal_id in (select appeal_id from appeals_base)

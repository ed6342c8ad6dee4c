-- overturn_notes: one row per overturned appeal (appeal_facts.is_overturned) with its final
-- decision note, unredacted (null when the decision carried none). What theme discovery reads
-- (metrics/discovery.py redacts before anything is shown); the store keeps it, so the Root
-- causes page computes no model from the raw events (docs/decisions.md, 80).
select f.appeal_id, l.decision_note
from appeal_facts as f
inner join appeal_lifecycle as l on l.appeal_id = f.appeal_id
where f.is_overturned

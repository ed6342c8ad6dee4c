-- decision_notes: one row per appeal whose final decision carries a note: (appeal_id,
-- decision_note), unredacted; appeal_lifecycle's decision_note, whose appeals are
-- appeals_base's. What theme discovery (the overturns' notes) and the drill-downs' notes
-- read; both redact before anything is shown. The store keeps it, so neither computes a model
-- from the raw events (docs/decisions.md, 80).
select appeal_id, decision_note
from appeal_lifecycle
where decision_note is not null

-- numbers: one row per integer n from 0 to 99,999: day offsets for expanding business
-- schedules (273 years of days), written portably as a cross join of digits.
select d1.n + 10 * d2.n + 100 * d3.n + 1000 * d4.n + 10000 * d5.n as n
from (values (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) as d1(n)
cross join (values (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) as d2(n)
cross join (values (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) as d3(n)
cross join (values (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) as d4(n)
cross join (values (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) as d5(n)

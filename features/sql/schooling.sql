-- family: schooling
-- School terms of the household's members starting within the 12 months to D.
-- Fees net of subsidy are taken per term and floored at 0 (a subsidy larger
-- than the term's fees does not offset another term). Non-compulsory levels:
-- preschool, high_school, vocational, tertiary.
-- column: students_preschool | INTEGER | persons | model | education persons | members with a preschool term starting within the 12 months to D
--   label: 学前教育人数 | preschool pupils
--   risk: education
--   reason: 有%s名学前儿童 | %s preschool pupils
-- column: students_compulsory | INTEGER | persons | model | education persons | members with a compulsory-education term, 12 months
--   label: 义务教育人数 | compulsory-school pupils
--   risk: education
--   reason: 有%s名义务教育阶段学生 | %s pupils in compulsory schooling
-- column: students_high_school | INTEGER | persons | model | education persons | members with a high-school term, 12 months
--   label: 高中在读人数 | high-school students
--   risk: education
--   reason: 有%s名高中生 | %s high-school students
--   profile: education_cost
-- column: students_vocational | INTEGER | persons | model | education persons | members with a vocational term, 12 months
--   label: 职业教育在读人数 | vocational students
--   risk: education
--   reason: 有%s名职业教育在读学生 | %s vocational students
--   profile: education_cost
-- column: students_tertiary | INTEGER | persons | model | education persons | members with a tertiary term, 12 months
--   label: 大学在读人数 | university students
--   risk: education
--   reason: 有%s名大学生 | %s university students
--   profile: education_cost
-- column: edu_fees_net_12m | DOUBLE | yuan | model | education persons | fees net of subsidy of all terms, 12 months
--   label: 近12个月净教育支出 | net schooling fees, 12 months
--   risk: education
--   reason: 近12个月扣除资助后教育支出%s | schooling fees net of aid %s in 12 months
--   profile: education_cost
-- column: edu_noncompulsory_net_12m | DOUBLE | yuan | model | education persons | fees net of subsidy of non-compulsory terms, 12 months
--   label: 非义务教育净支出 | non-compulsory fees, 12 months
--   risk: education
--   reason: 近12个月非义务教育支出(扣除资助)%s | non-compulsory schooling fees net of aid %s in 12 months
--   profile: education_cost
-- column: edu_share_income_12m | DOUBLE | share | model | education persons income_records | edu_noncompulsory_net_12m / net_income_12m; NULL when net income is not positive
--   label: 教育支出占纯收入比例 | schooling fees / income
--   risk: education
--   reason: 非义务教育支出相当于年纯收入的%s | non-compulsory schooling fees %s of the yearly net income
--   profile: education_cost
WITH t AS (
    SELECT m.household_id, e.person_id, e.level,
           greatest(e.fees - e.subsidy, 0.0) AS net
    FROM education e
    JOIN mem m USING (person_id)
    CROSS JOIN params p
    WHERE e.term_start >= p.w12 AND e.term_start <= p.as_of
), agg AS (
    SELECT household_id,
           count(DISTINCT person_id) FILTER (WHERE level = 'preschool')    AS s_pre,
           count(DISTINCT person_id) FILTER (WHERE level = 'compulsory')   AS s_comp,
           count(DISTINCT person_id) FILTER (WHERE level = 'high_school')  AS s_high,
           count(DISTINCT person_id) FILTER (WHERE level = 'vocational')   AS s_voc,
           count(DISTINCT person_id) FILTER (WHERE level = 'tertiary')     AS s_ter,
           CAST(sum(CAST(net AS DECIMAL(18,2))) AS DOUBLE)                                                        AS net_all,
           CAST(sum(CAST(net AS DECIMAL(18,2))) FILTER (WHERE level IN ('preschool', 'high_school', 'vocational', 'tertiary')) AS DOUBLE) AS net_nc
    FROM t
    GROUP BY household_id
)
SELECT h.household_id,
       CAST(coalesce(a.s_pre, 0) AS INTEGER)       AS students_preschool,
       CAST(coalesce(a.s_comp, 0) AS INTEGER)      AS students_compulsory,
       CAST(coalesce(a.s_high, 0) AS INTEGER)      AS students_high_school,
       CAST(coalesce(a.s_voc, 0) AS INTEGER)       AS students_vocational,
       CAST(coalesce(a.s_ter, 0) AS INTEGER)       AS students_tertiary,
       coalesce(a.net_all, 0.0)                    AS edu_fees_net_12m,
       coalesce(a.net_nc, 0.0)                     AS edu_noncompulsory_net_12m,
       CASE WHEN i.net_income_12m > 0 THEN coalesce(a.net_nc, 0.0) / i.net_income_12m END AS edu_share_income_12m
FROM hh h
JOIN f_income i USING (household_id)
LEFT JOIN agg a USING (household_id)

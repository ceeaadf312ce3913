-- family: assistance
-- Assistance programmes received on D: start_date on or before D and end_date
-- null or after D.
-- column: assist_dibao | BOOLEAN | flag | model | assistance | receives dibao on D
--   label: 享受低保 | receives dibao
--   risk: other
--   reason: 正在享受低保 | receives dibao (minimum living allowance)
--   reason_not: 未享受低保 | no dibao
-- column: assist_tekun | BOOLEAN | flag | model | assistance | receives tekun on D
--   label: 特困供养 | tekun support
--   risk: labor_shortage
--   reason: 正在享受特困供养 | receives tekun support
--   reason_not: 未享受特困供养 | no tekun support
-- column: assist_temporary | BOOLEAN | flag | model | assistance | receives temporary on D
--   label: 临时救助 | temporary assistance
--   risk: accident
--   reason: 正在享受临时救助 | receives temporary assistance
--   reason_not: 未享受临时救助 | no temporary assistance
-- column: assist_medical_aid | BOOLEAN | flag | model | assistance | receives medical_aid on D
--   label: 医疗救助 | medical aid
--   risk: illness
--   reason: 正在享受医疗救助 | receives medical aid
--   reason_not: 未享受医疗救助 | no medical aid
-- column: assist_employment_aid | BOOLEAN | flag | model | assistance | receives employment_aid on D
--   label: 就业帮扶 | employment aid
--   risk: unemployment
--   reason: 正在享受就业帮扶 | receives employment aid
--   reason_not: 未享受就业帮扶 | no employment aid
-- column: assist_industry_aid | BOOLEAN | flag | model | assistance | receives industry_aid on D
--   label: 产业帮扶 | industry aid
--   risk: industry
--   reason: 正在享受产业帮扶 | receives industry aid
--   reason_not: 未享受产业帮扶 | no industry aid
-- column: assist_education_aid | BOOLEAN | flag | model | assistance | receives education_aid on D
--   label: 教育资助 | education aid
--   risk: education
--   reason: 正在享受教育资助 | receives education aid
--   reason_not: 未享受教育资助 | no education aid
-- column: assist_housing_aid | BOOLEAN | flag | model | assistance | receives housing_aid on D
--   label: 危房改造 | housing aid
--   risk: housing
--   reason: 正在享受危房改造帮扶 | receives housing-renovation aid
--   reason_not: 未享受危房改造帮扶 | no housing aid
-- column: assist_programs | INTEGER | programmes | model | assistance | distinct programmes received on D
--   label: 在享帮扶项目数 | assistance programmes
--   risk: other
--   reason: 正在享受%s项救助帮扶 | receives %s assistance programmes
--   profile: assisted
-- column: assist_amount | DOUBLE | yuan/year | model | assistance | total yearly amount of the programmes received on D (unknown amounts count 0)
--   label: 年救助帮扶金额 | yearly assistance
--   risk: other
--   reason: 年救助帮扶金额%s | assistance of %s a year
WITH a AS (
    SELECT s.household_id,
           bool_or(s.program = 'dibao') AS dibao,
           bool_or(s.program = 'tekun') AS tekun,
           bool_or(s.program = 'temporary') AS temporary,
           bool_or(s.program = 'medical_aid') AS medical_aid,
           bool_or(s.program = 'employment_aid') AS employment_aid,
           bool_or(s.program = 'industry_aid') AS industry_aid,
           bool_or(s.program = 'education_aid') AS education_aid,
           bool_or(s.program = 'housing_aid') AS housing_aid,
           count(DISTINCT s.program) AS n,
           CAST(sum(CAST(coalesce(s.amount, 0.0) AS DECIMAL(18,2))) AS DOUBLE) AS amount
    FROM assistance s CROSS JOIN params p
    WHERE s.start_date <= p.as_of AND (s.end_date IS NULL OR s.end_date > p.as_of)
    GROUP BY s.household_id
)
SELECT h.household_id,
       coalesce(a.dibao, false) AS assist_dibao,
       coalesce(a.tekun, false) AS assist_tekun,
       coalesce(a.temporary, false) AS assist_temporary,
       coalesce(a.medical_aid, false) AS assist_medical_aid,
       coalesce(a.employment_aid, false) AS assist_employment_aid,
       coalesce(a.industry_aid, false) AS assist_industry_aid,
       coalesce(a.education_aid, false) AS assist_education_aid,
       coalesce(a.housing_aid, false) AS assist_housing_aid,
       CAST(coalesce(a.n, 0) AS INTEGER) AS assist_programs,
       coalesce(a.amount, 0.0) AS assist_amount
FROM hh h
LEFT JOIN a USING (household_id)

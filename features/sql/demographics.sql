-- family: demographics
-- Household composition on D: members alive on D (born on or before D, not
-- deceased on or before D). labor_capacity, disability_grade and the disease
-- registers are the member's state on D (mem, base.sql: dated by
-- person_events when present, else the export's state; see doc.go).
-- Format of a column line: name | type | unit | model or info [+health] | source tables | meaning
-- followed by its metadata lines (label, risk, reason, reason_not, reason_zero,
-- profile; see parseHeader in catalog.go). DOUBLE values are rounded when
-- computed: units yuan... to 2 decimals (the fen), ratio and share to 6.
-- column: household_size | INTEGER | persons | model | persons | members alive on D
--   label: 家庭人口 | household size
--   risk: other
--   reason: 家庭人口%s人 | %s household members
-- column: members_0_15 | INTEGER | persons | model | persons | members aged 0-15 on D
--   label: 0-15岁人数 | members aged 0-15
--   risk: education
--   reason: 有%s名15岁以下儿童 | %s children under 16
-- column: members_16_59 | INTEGER | persons | model | persons | members aged 16-59 on D
--   label: 16-59岁人数 | members aged 16-59
--   risk: labor_shortage
--   reason: 劳动年龄人口%s人 | %s members of working age
-- column: members_60_plus | INTEGER | persons | model | persons | members aged 60 or more on D
--   label: 60岁以上人数 | members aged 60+
--   risk: labor_shortage
--   reason: 有%s名60岁以上老人 | %s members aged 60 or more
--   profile: elderly
-- column: labor_full | INTEGER | persons | model | persons ?person_events | members with full labour capacity (普通劳动力)
--   label: 普通劳动力人数 | full labour
--   risk: labor_shortage
--   reason: 普通劳动力%s人 | %s members with full labour capacity
-- column: labor_weak | INTEGER | persons | model | persons ?person_events | members with weak labour capacity (弱劳动力)
--   label: 弱劳动力人数 | weak labour
--   risk: labor_shortage
--   reason: 弱劳动力%s人 | %s members with weak labour capacity
-- column: dependency_ratio | DOUBLE | ratio | model | persons | (members 0-15 + members 60+) / members 16-59; NULL when no member is 16-59
--   label: 抚养比 | dependency ratio
--   risk: labor_shortage
--   reason: 抚养比为%s | dependency ratio %s
--   profile: high_dependency
-- column: disabled_grade_1_2 | INTEGER | persons | model | persons ?person_events | members with disability grade 1 or 2 (severe)
--   label: 一二级残疾人数 | severely disabled
--   risk: disability
--   reason: 有%s名一、二级残疾成员 | %s members with disability grade 1-2
--   profile: disability
-- column: disabled_grade_3_4 | INTEGER | persons | model | persons ?person_events | members with disability grade 3 or 4
--   label: 三四级残疾人数 | disabled grade 3-4
--   risk: disability
--   reason: 有%s名三、四级残疾成员 | %s members with disability grade 3-4
-- column: chronic_members | INTEGER | persons | model+health | persons ?person_events | members on the chronic-disease register
--   label: 慢病人数 | chronic-disease members
--   risk: illness
--   profile: chronic_illness
-- column: major_disease_members | INTEGER | persons | model+health | persons ?person_events | members on the major-disease register
--   label: 大病人数 | major-disease members
--   risk: illness
--   profile: major_illness
SELECT
    h.household_id,
    CAST(coalesce(a.n, 0) AS INTEGER)          AS household_size,
    CAST(coalesce(a.a0, 0) AS INTEGER)         AS members_0_15,
    CAST(coalesce(a.a16, 0) AS INTEGER)        AS members_16_59,
    CAST(coalesce(a.a60, 0) AS INTEGER)        AS members_60_plus,
    CAST(coalesce(a.full_, 0) AS INTEGER)      AS labor_full,
    CAST(coalesce(a.weak, 0) AS INTEGER)       AS labor_weak,
    CASE WHEN a.a16 > 0 THEN (a.a0 + a.a60) / a.a16 END AS dependency_ratio,
    CAST(coalesce(a.g12, 0) AS INTEGER)        AS disabled_grade_1_2,
    CAST(coalesce(a.g34, 0) AS INTEGER)        AS disabled_grade_3_4,
    CAST(coalesce(a.chronic, 0) AS INTEGER)    AS chronic_members,
    CAST(coalesce(a.major, 0) AS INTEGER)      AS major_disease_members
FROM hh h
LEFT JOIN (
    SELECT household_id,
           count(*)                                              AS n,
           count(*) FILTER (WHERE age <= 15)                     AS a0,
           count(*) FILTER (WHERE age BETWEEN 16 AND 59)         AS a16,
           count(*) FILTER (WHERE age >= 60)                     AS a60,
           count(*) FILTER (WHERE labor_capacity = 'full')       AS full_,
           count(*) FILTER (WHERE labor_capacity = 'weak')       AS weak,
           count(*) FILTER (WHERE disability_grade IN (1, 2))    AS g12,
           count(*) FILTER (WHERE disability_grade IN (3, 4))    AS g34,
           count(*) FILTER (WHERE chronic_disease)               AS chronic,
           count(*) FILTER (WHERE major_disease)                 AS major
    FROM mem
    WHERE alive
    GROUP BY household_id
) a USING (household_id)

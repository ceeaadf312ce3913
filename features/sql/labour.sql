-- family: labour
-- Loss of labour. Deaths are dated (deceased_date within the 12-month window
-- up to D). labor_capacity and disability_grade are the member's state on D
-- (mem, base.sql: dated by person_events when the warehouse has it; else the
-- export's state, which may show a loss that happened after D).
-- column: earner_deaths_12m | INTEGER | persons | model | persons ?person_events | members with full or weak labour capacity who died within the 12 months to D
--   label: 近12个月劳动力死亡人数 | earner deaths, 12 months
--   risk: labor_shortage
--   reason: 近12个月有%s名劳动力成员去世 | %s members with labour capacity died in 12 months
--   profile: labor_loss
-- column: working_age_lost_capacity | INTEGER | persons | model | persons ?person_events | members aged 16-59 alive on D whose labour capacity is lost or whose disability grade is 1-2 (snapshot)
--   label: 劳动年龄丧失劳动力人数 | working-age lost capacity
--   risk: labor_shortage
--   reason: %s名劳动年龄成员丧失劳动能力或重度残疾 | %s working-age members lost labour capacity or are severely disabled
--   profile: labor_loss
-- column: no_labor | BOOLEAN | flag | model | persons ?person_events | no member alive on D has full or weak labour capacity
--   label: 无劳动力 | no labour
--   risk: labor_shortage
--   reason: 家庭无劳动力 | no member able to work
--   reason_not: 家庭有劳动力 | has a member able to work
--   profile: labor_shortage
SELECT h.household_id,
       CAST(coalesce(a.deaths, 0) AS INTEGER)     AS earner_deaths_12m,
       CAST(coalesce(a.lostcap, 0) AS INTEGER)    AS working_age_lost_capacity,
       coalesce(a.workers, 0) = 0                 AS no_labor
FROM hh h
LEFT JOIN (
    SELECT household_id,
           count(*) FILTER (WHERE died_12m AND labor_capacity IN ('full', 'weak'))                   AS deaths,
           count(*) FILTER (WHERE alive AND age BETWEEN 16 AND 59
                            AND (labor_capacity = 'lost' OR disability_grade IN (1, 2)))            AS lostcap,
           count(*) FILTER (WHERE alive AND labor_capacity IN ('full', 'weak'))                     AS workers
    FROM mem
    GROUP BY household_id
) a USING (household_id)

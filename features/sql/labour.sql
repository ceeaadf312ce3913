-- family: labour
-- Loss of labour. Deaths are dated (deceased_date within the 12-month window
-- up to D). labor_capacity and disability_grade are undated snapshot values:
-- a member who is 'lost' or grade 1-2 now is counted, without knowing when
-- the loss happened (limitation: a rule on it trips as long as the state holds,
-- and a snapshot taken after D may show a loss that happened after D).
-- column: earner_deaths_12m | INTEGER | persons | model | persons | members with full or weak labour capacity who died within the 12 months to D
-- column: working_age_lost_capacity | INTEGER | persons | model | persons | members aged 16-59 alive on D whose labour capacity is lost or whose disability grade is 1-2 (snapshot)
-- column: no_labor | BOOLEAN | flag | model | persons | no member alive on D has full or weak labour capacity
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

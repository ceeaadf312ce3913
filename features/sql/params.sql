-- params: one row holding the as-of date D, the starts of the calendar-month
-- windows ending with the month of D, and the thresholds of the feature SQL.
-- Every value is a bound parameter:
--   $1 as-of date (text YYYY-MM-DD)
--   $2 job loss: minimum run of consecutive contribution months (policy, default 6)
--   $3 job loss: minimum months without contributions up to the month of D (policy, default 2)
--   $4 job loss: the last contribution is at most this many months before the month of D (default 12)
--   $5 medical spike: floor of the baseline monthly median, yuan (default 100)
--   $6 unemployment: a registration is new when made within this many calendar months (default 3)
CREATE OR REPLACE TEMP TABLE params AS
WITH d AS (SELECT CAST($1 AS DATE) AS as_of)
SELECT
    as_of,
    CAST(date_trunc('month', as_of) AS DATE)                        AS m0,
    CAST(date_trunc('month', as_of) - INTERVAL 2 MONTH AS DATE)     AS w3,
    CAST(date_trunc('month', as_of) - INTERVAL 5 MONTH AS DATE)     AS w6,
    CAST(date_trunc('month', as_of) - INTERVAL 11 MONTH AS DATE)    AS w12,
    CAST(date_trunc('month', as_of) - INTERVAL 14 MONTH AS DATE)    AS b_start,
    CAST(date_trunc('month', as_of) - INTERVAL 23 MONTH AS DATE)    AS w24,
    year(as_of) * 12 + month(as_of) - 1                             AS m0_index,
    CAST($2 AS INTEGER)                                             AS jobloss_min_run,
    CAST($3 AS INTEGER)                                             AS jobloss_min_gap,
    CAST($4 AS INTEGER)                                             AS jobloss_lookback,
    CAST($5 AS DOUBLE)                                              AS spike_floor,
    CAST(date_trunc('month', as_of) - to_months(CAST($6 AS INTEGER) - 1) AS DATE) AS unemp_new_start
FROM d

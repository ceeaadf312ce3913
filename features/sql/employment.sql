-- family: employment
-- Social-insurance contributions and unemployment registrations of the
-- working-age members (16-59) alive on D, periods up to the month of D (m0).
-- Job loss of a member: the run of consecutive contribution months ending at
-- the member's last contribution month L is at least params.jobloss_min_run
-- (policy, default 6) long, and the months L+1 .. m0 without contributions
-- number at least params.jobloss_min_gap (policy, default 2) and at most
-- params.jobloss_lookback (12), so that a job lost long ago stops counting.
-- column: job_loss | BOOLEAN | flag | model | social_insurance persons | a working-age member lost a job (see above)
--   label: 务工中断 | job loss
--   risk: unemployment
--   reason: 有劳动年龄成员近期断缴社保或新登记失业 | a working-age member stopped paying social insurance or registered as unemployed
--   reason_not: 无务工中断 | no job loss
--   profile: job_loss
-- column: job_loss_members | INTEGER | persons | model | social_insurance persons | working-age members with a job loss
--   label: 务工中断人数 | members who lost a job
--   risk: unemployment
--   reason: %s名劳动年龄成员务工中断 | %s working-age members lost a job
--   profile: job_loss
-- column: months_since_job_loss | INTEGER | months | model | social_insurance persons | m0 - L of the most recent job loss; NULL when none
--   label: 距务工中断月数 | months since job loss
--   risk: unemployment
--   reason: %s个月前务工中断 | lost a job %s months ago
--   reason_zero: 本月务工中断 | lost a job this month
-- column: contributing_members_now | INTEGER | persons | model | social_insurance persons | working-age members with a contribution in the month of D
--   label: 当月参保缴费人数 | members paying social insurance
--   risk: unemployment
--   reason: 当月参保缴费%s人 | %s members paying social insurance this month
-- column: members_stopped_contrib | INTEGER | persons | model | social_insurance persons | working-age members who contributed in the 12 months to D but not in the month of D
--   label: 近12个月停缴人数 | members who stopped paying
--   risk: unemployment
--   reason: %s名成员近12个月缴过社保、当月已停缴 | %s members paid social insurance in the last 12 months but not this month
--   profile: job_loss
-- column: unemployment_open | INTEGER | registrations | model | unemployment persons | unemployment registrations open on D (registered on or before D, not ended on or before D)
--   label: 失业登记中人数 | open unemployment registrations
--   risk: unemployment
--   reason: %s人处于失业登记状态 | %s members registered as unemployed
--   profile: unemployed
-- column: unemployment_new | INTEGER | registrations | model | unemployment persons | unemployment registrations made within the last params.unemp months (default 3 calendar months) up to D
--   label: 近3个月新增失业登记 | new unemployment registrations
--   risk: unemployment
--   reason: 近3个月新增失业登记%s人 | %s new unemployment registrations in 3 months
--   profile: unemployed
WITH si AS MATERIALIZED (
    SELECT s.person_id, year(s.period) * 12 + month(s.period) - 1 AS mi, s.period, s.contribution_base
    FROM social_insurance s
    JOIN mem m USING (person_id)
    CROSS JOIN params p
    WHERE s.period <= p.m0 AND m.alive AND m.age BETWEEN 16 AND 59
), last AS (
    SELECT person_id, max(mi) AS last_mi, arg_max(contribution_base, period) AS last_base
    FROM si
    GROUP BY person_id
), lost AS (
    SELECT m.household_id, CAST(sum(CAST(l.last_base AS DECIMAL(18,2))) AS DOUBLE) AS base6
    FROM last l
    JOIN mem m USING (person_id)
    CROSS JOIN params p
    WHERE l.last_mi BETWEEN p.m0_index - 6 AND p.m0_index - 1
    GROUP BY m.household_id
), run AS (
    SELECT l.person_id, l.last_mi, count(*) AS n_run
    FROM si
    JOIN last l USING (person_id)
    CROSS JOIN params p
    WHERE si.mi > l.last_mi - p.jobloss_min_run
    GROUP BY l.person_id, l.last_mi
), per AS (
    SELECT m.household_id,
           p.m0_index - r.last_mi AS gap,
           (r.n_run >= p.jobloss_min_run
            AND p.m0_index - r.last_mi >= p.jobloss_min_gap
            AND p.m0_index - r.last_mi <= p.jobloss_lookback)          AS lost,
           r.last_mi = p.m0_index                                      AS now_,
           (r.last_mi >= p.m0_index - 11 AND r.last_mi < p.m0_index)   AS stopped
    FROM run r
    JOIN mem m USING (person_id)
    CROSS JOIN params p
), si_agg AS (
    SELECT household_id,
           count(*) FILTER (WHERE lost)     AS lost_n,
           min(gap) FILTER (WHERE lost)     AS since,
           count(*) FILTER (WHERE now_)     AS now_n,
           count(*) FILTER (WHERE stopped)  AS stopped_n
    FROM per
    GROUP BY household_id
), un AS (
    SELECT m.household_id,
           count(*) FILTER (WHERE u.registered_date <= p.as_of
                            AND (u.ended_date IS NULL OR u.ended_date > p.as_of))          AS open_n,
           count(*) FILTER (WHERE u.registered_date >= p.unemp_new_start
                            AND u.registered_date <= p.as_of)                              AS new_n,
           max(u.registered_date) FILTER (WHERE u.registered_date <= p.as_of)                  AS latest
    FROM unemployment u
    JOIN mem m USING (person_id)
    CROSS JOIN params p
    WHERE m.alive
    GROUP BY m.household_id
)
SELECT h.household_id,
       coalesce(s.lost_n, 0) > 0                       AS job_loss,
       CAST(coalesce(s.lost_n, 0) AS INTEGER)          AS job_loss_members,
       CAST(s.since AS INTEGER)                        AS months_since_job_loss,
       CAST(coalesce(s.now_n, 0) AS INTEGER)           AS contributing_members_now,
       CAST(coalesce(s.stopped_n, 0) AS INTEGER)       AS members_stopped_contrib,
       CAST(coalesce(u.open_n, 0) AS INTEGER)          AS unemployment_open,
       CAST(coalesce(u.new_n, 0) AS INTEGER)           AS unemployment_new,
       u.latest                                        AS x_unemp_latest,
       lo.base6                                        AS x_base6
FROM hh h
LEFT JOIN si_agg s USING (household_id)
LEFT JOIN un u USING (household_id)
LEFT JOIN lost lo USING (household_id)

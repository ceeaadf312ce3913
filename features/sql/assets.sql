-- family: assets
-- Eligibility conflicts shown as evidence for the home visit (POLICY.md:
-- never an automatic exclusion, never a hidden weight): the columns are
-- information, not model inputs. Records dated on or before D.
-- value: the sum of the recorded values; for deposits, the latest balance (the
-- largest of the balances recorded on the latest date). Money is summed as
-- DECIMAL(18,2) in every family, so that the result does not depend on the
-- order of a parallel aggregation (byte-identical outputs).
-- column: asset_vehicle_count | INTEGER | records | info | assets | vehicle records dated on or before D
--   label: 车辆记录数 | vehicle records
-- column: asset_vehicle_latest | DATE | date | info | assets | date of the latest vehicle record on or before D
--   label: 最近车辆记录日期 | latest vehicle record
-- column: asset_vehicle_value | DOUBLE | yuan | info | assets | total recorded value of the vehicle records on or before D
--   label: 车辆记录金额 | vehicle value
-- column: asset_property_count | INTEGER | records | info | assets | property records dated on or before D
--   label: 商品房记录数 | property records
-- column: asset_property_latest | DATE | date | info | assets | date of the latest property record on or before D
--   label: 最近商品房记录日期 | latest property record
-- column: asset_property_value | DOUBLE | yuan | info | assets | total recorded value of the property records on or before D
--   label: 商品房记录金额 | property value
-- column: asset_business_count | INTEGER | records | info | assets | business records dated on or before D
--   label: 工商登记记录数 | business records
-- column: asset_business_latest | DATE | date | info | assets | date of the latest business record on or before D
--   label: 最近工商登记记录日期 | latest business record
-- column: asset_business_value | DOUBLE | yuan | info | assets | total recorded value of the business records on or before D
--   label: 工商登记记录金额 | business value
-- column: asset_public_payroll_count | INTEGER | records | info | assets | public_payroll records dated on or before D
--   label: 财政供养人员记录数 | public-payroll records
-- column: asset_public_payroll_latest | DATE | date | info | assets | date of the latest public_payroll record on or before D
--   label: 最近财政供养人员记录日期 | latest public-payroll record
-- column: asset_public_payroll_value | DOUBLE | yuan | info | assets | total recorded value of the public_payroll records on or before D
--   label: 财政供养人员记录金额 | public-payroll value
-- column: asset_deposit_count | INTEGER | records | info | assets | deposit records dated on or before D
--   label: 存款记录数 | deposit records
-- column: asset_deposit_latest | DATE | date | info | assets | date of the latest deposit record on or before D
--   label: 最近存款记录日期 | latest deposit record
-- column: asset_deposit_value | DOUBLE | yuan | info | assets | balance of the latest deposit record on or before D
--   label: 存款余额 | deposit balance
WITH a AS (
    SELECT s.household_id,
           count(*) FILTER (WHERE s.kind = 'vehicle')                      AS vehicle_n,
           max(s.event_date) FILTER (WHERE s.kind = 'vehicle')             AS vehicle_latest,
           CAST(sum(CAST(s.value AS DECIMAL(18,2))) FILTER (WHERE s.kind = 'vehicle') AS DOUBLE)                  AS vehicle_value,
           count(*) FILTER (WHERE s.kind = 'property')                      AS property_n,
           max(s.event_date) FILTER (WHERE s.kind = 'property')             AS property_latest,
           CAST(sum(CAST(s.value AS DECIMAL(18,2))) FILTER (WHERE s.kind = 'property') AS DOUBLE)                  AS property_value,
           count(*) FILTER (WHERE s.kind = 'business')                      AS business_n,
           max(s.event_date) FILTER (WHERE s.kind = 'business')             AS business_latest,
           CAST(sum(CAST(s.value AS DECIMAL(18,2))) FILTER (WHERE s.kind = 'business') AS DOUBLE)                  AS business_value,
           count(*) FILTER (WHERE s.kind = 'public_payroll')                      AS public_payroll_n,
           max(s.event_date) FILTER (WHERE s.kind = 'public_payroll')             AS public_payroll_latest,
           CAST(sum(CAST(s.value AS DECIMAL(18,2))) FILTER (WHERE s.kind = 'public_payroll') AS DOUBLE)                  AS public_payroll_value,
           count(*) FILTER (WHERE s.kind = 'deposit')                      AS deposit_n,
           max(s.event_date) FILTER (WHERE s.kind = 'deposit')             AS deposit_latest,
           arg_max(s.value, row(s.event_date, s.value)) FILTER (WHERE s.kind = 'deposit' AND s.value IS NOT NULL) AS deposit_value
    FROM assets s CROSS JOIN params p
    WHERE s.event_date <= p.as_of
    GROUP BY s.household_id
)
SELECT h.household_id,
       CAST(coalesce(a.vehicle_n, 0) AS INTEGER) AS asset_vehicle_count,
       a.vehicle_latest AS asset_vehicle_latest,
       a.vehicle_value AS asset_vehicle_value,
       CAST(coalesce(a.property_n, 0) AS INTEGER) AS asset_property_count,
       a.property_latest AS asset_property_latest,
       a.property_value AS asset_property_value,
       CAST(coalesce(a.business_n, 0) AS INTEGER) AS asset_business_count,
       a.business_latest AS asset_business_latest,
       a.business_value AS asset_business_value,
       CAST(coalesce(a.public_payroll_n, 0) AS INTEGER) AS asset_public_payroll_count,
       a.public_payroll_latest AS asset_public_payroll_latest,
       a.public_payroll_value AS asset_public_payroll_value,
       CAST(coalesce(a.deposit_n, 0) AS INTEGER) AS asset_deposit_count,
       a.deposit_latest AS asset_deposit_latest,
       a.deposit_value AS asset_deposit_value
FROM hh h
LEFT JOIN a USING (household_id)

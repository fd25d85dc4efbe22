-- Everyone seen in any log, per day and department, when no users.csv was given (empty otherwise): the
-- denominator of "share of employees using AI". classify builds it (people_daily.sql); the dashboard
-- copies it next to its own rollups.
with people_daily as (
    select day, department, person from people_daily
),

final as (
    select day, department, person from people_daily
)

select * from final

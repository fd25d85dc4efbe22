-- The choices of the dashboard's filters and the days with data, from small tables only.
with usage as (
    select day, department, category from usage_daily
),

options as (
    select 'department' as kind, coalesce(department, '(unknown)') as value from usage
    union
    select 'department', department from user_departments where department is not null
    union
    select 'department', department from ip_departments where department is not null
    union
    select 'category', coalesce(category, '(unknown)') from usage
    union
    select 'category', category from services where category is not null
),

final as (
    select kind, value, null::date as first_day, null::date as last_day from options
    union all
    select 'days', null, min(day), max(day) from usage
)

select * from final order by kind, value

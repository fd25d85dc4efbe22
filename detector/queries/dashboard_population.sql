-- How many people each department has (and all selected departments together, `is_total`): the
-- employees in users.csv when it was given, else the people seen in any log in the period.
with directory as (
    select coalesce(department, '(unknown)') as department, user_id as person from user_departments
),

seen as (
    select department, person from dashboard_people_daily where day between $start and $end
    union
    select department, person from dashboard_user_daily where day between $start and $end
),

chosen as (
    select department, person from directory
    union all
    select department, person from seen where not exists (select 1 from directory)
),

filtered as (
    select * from chosen
    where len($departments) = 0 or list_contains($departments, department)
),

final as (
    select
        department,
        count(distinct person) as people,
        grouping(department) = 1 as is_total,
        (select count(*) > 0 from directory) as from_directory
    from filtered
    group by grouping sets ((department), ())
)

select * from final

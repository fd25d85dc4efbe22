-- How many people each department has (and all selected departments together, `is_total`): the
-- employees in users.csv when it was given, else the people seen in any log in the period (the macro
-- `population`, db.py, as the report counts them).
with directory as (
    select user_id from user_departments where user_id is not null
),

chosen as (
    select department, person from population($start, $end)
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

-- Everyone seen in any log, per day and department: the denominator of "share of employees using AI"
-- when no users.csv was given ($enabled is false otherwise, and this is empty). A person is the user's
-- pseudonym, else the client address hashed ('c-...', as in dashboard_user_daily); the department is
-- the client network's (networks.csv).
with events as (
    select day, user_name, src_ip from events where $enabled and (user_name is not null or src_ip is not null)
),

seen as (
    select day, user_name, src_ip from events group by day, user_name, src_ip
),

final as (
    select distinct
        s.day,
        coalesce(ipd.department, '(unknown)') as department,
        coalesce(s.user_name, 'c-' || left(md5(s.src_ip), 16)) as person
    from seen as s
    left join ip_departments as ipd on ipd.src_ip = s.src_ip
)

select * from final

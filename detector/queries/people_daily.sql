-- Everyone seen in any log, per day and department: the denominator of "share of employees using AI"
-- when no users.csv was given (empty otherwise). A person is the user's pseudonym, else the client
-- address hashed ('c-...', as in user_daily); the department is the client network's (networks.csv).
-- Built at classify from client_stretches, so that no reader scans the events for it.
with seen as (
    select distinct day, user_name, src_ip
    from client_stretches
    where not exists (select 1 from user_departments)
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

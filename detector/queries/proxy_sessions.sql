-- Who sat behind a client address when: sessions of authenticated (proxy) events per address and user,
-- split where the user was silent for longer than $gap_seconds, widened by $window_seconds each side.
-- DNS and firewall events without a user are attributed through these.
--
-- Events less than $gap_seconds apart never split a session, so the windows run over client_stretches
-- (each address, user, day and $gap_seconds stretch reduced to its first and last event) instead of
-- every event: the same sessions.
with stretches as (
    select src_ip, user_name as user_id, first_ts, last_ts, events
    from client_stretches
    where user_name is not null and src_ip is not null
),

marked as (
    select *,
        case
            when epoch(first_ts) - epoch(lag(last_ts) over (partition by src_ip, user_id order by first_ts))
                > $gap_seconds then 1
            else 0
        end as starts_session
    from stretches
),

numbered as (
    select *,
        sum(starts_session) over (partition by src_ip, user_id order by first_ts rows unbounded preceding) as session
    from marked
),

final as (
    select
        src_ip,
        user_id,
        min(first_ts) - to_seconds($window_seconds) as starts,
        max(last_ts) + to_seconds($window_seconds) as ends,
        sum(events)::bigint as events
    from numbered
    group by src_ip, user_id, session
)

select * from final

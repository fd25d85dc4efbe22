-- Who sat behind a client address when: sessions of authenticated (proxy) events per address and user,
-- split where the user was silent for longer than $gap_seconds, widened by $window_seconds each side.
-- DNS and firewall events without a user are attributed through these.
--
-- Events less than $gap_seconds apart never split a session, so each stretch of $gap_seconds per address
-- and user is first reduced to its first and last event: the same sessions, with the window functions
-- running over stretches instead of every event.
with stretches as (
    select
        src_ip,
        user_name as user_id,
        min(ts) as first_ts,
        max(ts) as last_ts,
        count(*) as events
    from lake_events
    where user_name is not null and src_ip is not null
    group by src_ip, user_name, epoch_us(ts) // ($gap_seconds * 1000000)
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

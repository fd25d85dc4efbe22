-- Names for flows that carry only a destination address (firewall and sensor connection logs): the
-- name whose DNS answer gave that address to the SAME client most recently before the flow, within
-- $window_seconds; else the most recent answer for that address to ANY client in the window, marked
-- less certain; else none. ASOF joins over the lake: no loop, no per-flow look-up.
-- An answer is any event whose host was learned from a DNS query and that carries answers, whatever
-- its format's source kind: DNS servers, firewalls' DNS logs (FortiGate `type=dns`), sensors (Zeek,
-- Suricata, Defender) and JSON/CSV exports' DNS rows alike.
-- Reads two views over lake files that detector/classify/flows.py makes for one day: `flow_events` (the
-- day's firewall and sensor files) and `answer_events` (the files of any kind, on the days whose answers
-- the window reaches, that hold such an event: flows.ANSWERS_WHERE, kept in step with the filter
-- below); answers before $answers_from (the day's start less the window) can name none of its flows and
-- are left out (the day before's files are mostly skipped by their time range).
with resolutions as (
    -- filtered before the unnest below
    select src_ip, host, ts, dns_answers
    from answer_events
    where host_source = 'dns_query' and host is not null and dns_answers is not null
        and ts >= $answers_from
),

answers as (
    select e.src_ip, a.address, e.host, e.ts
    from resolutions as e, unnest(e.dns_answers) as a(address)
    -- addresses only (CNAME targets are names); IPv4 dotted quads or IPv6 with colons
    where regexp_matches(a.address, '^\d{1,3}(\.\d{1,3}){3}$') or contains(a.address, ':')
),

-- An ASOF join takes any one of several answers with the same time stamp: answers given at the same
-- instant for one address keep one name, the first in name order, so that every run names alike.
client_answers as (
    select src_ip, address, ts, min(host) as host
    from answers
    group by src_ip, address, ts
),

any_answers as (
    select address, ts, min(host) as host
    from client_answers
    group by address, ts
),

flows as (
    select file_id, line_no, src_ip, dst_ip, ts
    from flow_events
    where host is null and dst_ip is not null and source_kind in ('firewall', 'sensor')
),

same_client as (
    select f.file_id, f.line_no, f.src_ip, f.dst_ip, f.ts, a.host, a.ts as answered
    from flows as f
    asof left join client_answers as a
        on a.src_ip = f.src_ip and a.address = f.dst_ip and a.ts <= f.ts
),

any_client as (
    select s.file_id, s.line_no, s.host, s.answered, a.host as any_host, a.ts as any_answered, s.ts
    from same_client as s
    asof left join any_answers as a
        on a.address = s.dst_ip and a.ts <= s.ts
),

final as (
    select
        file_id,
        line_no,
        case
            when host is not null and epoch(ts) - epoch(answered) <= $window_seconds then host
            when any_host is not null and epoch(ts) - epoch(any_answered) <= $window_seconds then any_host
        end as host,
        case
            when host is not null and epoch(ts) - epoch(answered) <= $window_seconds then 'same_client'
            when any_host is not null and epoch(ts) - epoch(any_answered) <= $window_seconds then 'any_client'
        end as certainty
    from any_client
)

select * from final where host is not null

-- The model's candidate AI hosts that no analyst has decided on yet and that were seen in the period,
-- most likely first: the backlog `shadow-ai review` lists, as far as it concerns this period.
with hosts as (
    select host, registered_domain, score, clients, events, first_seen, last_seen, is_ai, rule from hosts
    where for_review(match, host)
),

final as (
    select host, registered_domain, score, is_ai, clients, events, first_seen, last_seen, rule
    from hosts
    where cast(last_seen as date) >= $start and cast(first_seen as date) <= $end
    order by score desc, clients desc, host
)

select * from final

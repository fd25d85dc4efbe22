-- The model's candidate AI hosts that no analyst has decided on yet, most likely first, with what flagged them
-- (`rule`: the model's name or traffic score, a listed AI service, or calls to a model API path).
with hosts as (
    select * from hosts
),

final as (
    select host, registered_domain, score, clients, events, first_seen, last_seen, rule
    from hosts
    where for_review(match, host)
    order by score desc, clients desc
    limit $limit
)

select * from final

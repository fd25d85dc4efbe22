-- Discovery: the hosts for review (for_review: the model calls them AI, or their requests to a model API path are
-- AI use) and those just under the model's threshold (within $margin), that no analyst has decided on, most likely
-- first. The threshold is the one in the rule the model wrote ("model NAME (threshold 0.50)").
with hosts as (
    select *, try_cast(regexp_extract(rule, 'threshold ([0-9.]+)', 1) as double) as threshold from hosts
),

final as (
    select host, registered_domain, match, score, threshold, clients, events, first_seen, last_seen, rule
    from hosts
    where for_review(match, host)
        or (match = 'none' and score is not null and score >= coalesce(threshold, 0.5) - $margin)
    order by score desc, clients desc, host
    limit $limit
)

select * from final

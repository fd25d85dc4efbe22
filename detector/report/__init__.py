"""Reports for people and machines: the nightly report (HTML, CSV, JSON), alerts for a SIEM, mail, the
CISO deck and exports (block lists, ECS events, the AI-register candidate list).

One responsibility per module: period (what --period means), config (the [report], [alerts] and [mail]
sections), data (queries + small-group suppression), alerts, html/svg/fmt (presentation), csvout, files
(atomic writes), build (the report), mail, deck/charts, exports, ecs, register.
"""

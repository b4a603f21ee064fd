"""Hooks layer: turn one hook's FHIR data into the CDS Hooks response body."""

HOOKS = ("patient-view", "order-select", "order-sign")  # the hooks the service answers
ORDER_HOOKS = ("order-select", "order-sign")  # the ones that carry draftOrders

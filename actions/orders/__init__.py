"""Order self-service: the port to a shop's order system and its two adapters.

`port.py` is the contract the actions use; `demo_store.py` is the embedded SQLite demo store
(`python -m actions.orders seed|list|info`); `http_adapter.py` talks to a shop's own REST API;
`factory.order_system_from_env()` picks one from the environment.
"""

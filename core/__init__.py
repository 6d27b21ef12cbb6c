"""The project's core: what the bot, the action server and the service all need to agree on.

Pure Python on purpose. It depends only on what every environment pins identically
(PyYAML, holidays and python-stdnum), so that the Rasa side (Python 3.10, Rasa's pins) and the service
(Python 3.11, pydantic 2, SQLAlchemy 2) can import it without pulling in each other's
frameworks. `make lint` enforces that it imports nothing of bot, actions, api, rasa,
rasa_sdk, fastapi or sqlalchemy.

- `languages`: the languages (and countries) the assistant serves;
- `limits`: limits every part enforces alike (the longest customer message);
- `content`: the texts in content/*.yml, per language;
- `opening_hours`: when customer service is open, per country, with public holidays;
- `patterns`: details customers type (order numbers, e-mail, phone, ...);
- `personal_data`: identity numbers, cards and IBANs, found by checksum and masked;
- `ambiguity`: when a message is too ambiguous to answer without asking;
- `scorecard`: the principles scorecard of a conversation, and its aggregate;
- `signing`: HMAC signatures of hooks and webhooks;
- `vocabulary`: names of actions and slots, and the enums every part shares.
"""

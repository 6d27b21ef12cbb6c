# Sourced by scripts/run.sh and scripts/run_scaled.sh: the local secrets in .env, made once
# and never committed (.env is git-ignored); sets new_secrets=true when it made them.
if [ ! -f .env ]; then
  new_secrets=true
  {
    echo "NORDHEM_HOOK_SECRET=$(.venv-api/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')"
    echo "NORDHEM_DEMO_AGENT_TOKEN=$(.venv-api/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')"
  } > .env
fi
# Rasa's HTTP API answers only with a token signed with this secret (older .env files get it).
if ! grep -q '^NORDHEM_RASA_JWT_SECRET=' .env; then
  (umask 077; echo "NORDHEM_RASA_JWT_SECRET=$(.venv-api/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')" >> .env)
fi

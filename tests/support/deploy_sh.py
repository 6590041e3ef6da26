"""deploy.sh texts with the structure of opencrvs-countryconfig's infrastructure/deploy.sh (1.3.x).

Written here, not copied: the argument loop with the assignment on the line after each
pattern, the .env export, a trap, ``print_usage_and_exit``, the compound ``--clear_data``
check, one ``if [ -z "$X" ] ; then … print_usage_and_exit … fi`` block per required variable,
``echo 'Info: Missing optional …'`` blocks, the script's own defaults (``SSH_USER=${SSH_USER:-root}``),
backticks holding a ``;``, an indirect ``${!VARIABLE_NAME}`` test inside a function, a pass-through
``PAPERTRAIL=$PAPERTRAIL``, and ``exit 1`` in the replicas ``else``.
"""

from __future__ import annotations

from collections.abc import Iterable

ARGUMENTS = {
    "clear_data": "CLEAR_DATA",
    "host": "HOST",
    "environment": "ENV",
    "version": "VERSION",
    "country_config_version": "COUNTRY_CONFIG_VERSION",
    "replicas": "REPLICAS",
}
REQUIRED_1_3_0 = (
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_USERNAME",
    "SMTP_PASSWORD",
    "ALERT_EMAIL",
    "KIBANA_USERNAME",
    "KIBANA_PASSWORD",
    "ELASTICSEARCH_SUPERUSER_PASSWORD",
    "MINIO_ROOT_USER",
    "MINIO_ROOT_PASSWORD",
    "MONGODB_ADMIN_USER",
    "MONGODB_ADMIN_PASSWORD",
    "SUPER_USER_PASSWORD",
    "DOCKERHUB_ACCOUNT",
    "DOCKERHUB_REPO",
)
OPTIONAL_INFO = (
    "EMAIL_API_KEY",
    "SENTRY_DSN",
    "INFOBIP_GATEWAY_ENDPOINT",
    "INFOBIP_API_KEY",
    "INFOBIP_SENDER_ID",
    "SENDER_EMAIL_ADDRESS",
)
SELF_DEFAULTED = ("SSH_USER", "SSH_HOST", "LOG_LOCATION")
MOSIP_ASSIGNED = (
    "TOKENSEEDER_MOSIP_AUTH__PARTNER_MISP_LK",
    "TOKENSEEDER_MOSIP_AUTH__PARTNER_APIKEY",
    "TOKENSEEDER_CRYPTO_SIGNATURE__SIGN_P12_FILE_PASSWORD",
)
OIDP = (
    "NATIONAL_ID_OIDP_CLIENT_ID",
    "NATIONAL_ID_OIDP_BASE_URL",
    "NATIONAL_ID_OIDP_REST_URL",
    "NATIONAL_ID_OIDP_ESSENTIAL_CLAIMS",
    "NATIONAL_ID_OIDP_VOLUNTARY_CLAIMS",
    "NATIONAL_ID_OIDP_CLIENT_PRIVATE_KEY",
    "NATIONAL_ID_OIDP_JWT_AUD_CLAIM",
)
CSP = "CONTENT_SECURITY_POLICY_WILDCARD"


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in version.split("."))


def required_for(version: str) -> tuple[str, ...]:
    return (*REQUIRED_1_3_0, CSP) if _key(version) >= (1, 3, 1) else REQUIRED_1_3_0


def real_deploy_sh(
    version: str,
    *,
    mosip: bool = False,
    extra_required: Iterable[str] = (),
    extra_optional: Iterable[str] = (),
    drop_required: Iterable[str] = (),
) -> str:
    """deploy.sh as opencrvs-countryconfig shipped it at ``version`` (``mosip``: the v1.3.4 tag).

    ``extra_required`` / ``extra_optional``: a fork's own checks, added after upstream's.
    """
    dropped = set(drop_required)
    cases = "".join(
        f'    --{arg}=*)\n        {var}="${{i#*=}}"\n        shift\n        ;;\n'
        for arg, var in ARGUMENTS.items()
    )
    argument_checks = "".join(
        f"if [ -z \"${var}\" ] ; then\n    echo 'Error: Argument --{arg} is required.'\n"
        "    print_usage_and_exit\nfi\n\n"
        for arg, var in ARGUMENTS.items()
        if var != "CLEAR_DATA"
    )
    required = [n for n in (*required_for(version), *extra_required) if n not in dropped]
    required_checks = "".join(
        f"if [ -z \"${name}\" ] ; then\n    echo 'Error: Missing environment variable {name}.'\n"
        "    print_usage_and_exit\nfi\n\n"
        for name in required
    )
    mosip_checks = ""
    if mosip:
        mosip_checks = "".join(
            f'if [ -z "${name}" ] ; then\n'
            f"    echo 'Info: Missing optional MOSIP environment variable {name}.'\n"
            f"    {name}=''\nfi\n\n"
            for name in MOSIP_ASSIGNED
        ) + "".join(
            f'if [ -z "${name}" ] ; then\n'
            f"  echo 'Info: Missing optional National ID verification environment variable {name}'\n"
            "fi\n\n"
            for name in OIDP
        )
    optional_checks = "".join(
        f"if [ -z \"${name}\" ] ; then\n    echo 'Info: Missing optional environment variable {name}.'\nfi\n\n"
        for name in (*OPTIONAL_INFO, *extra_optional)
    )
    return f"""# This Source Code Form is subject to the terms of the Mozilla Public
# License, v. 2.0. (crvs-migrate test fixture, country config {version})
set -e

BASEDIR=$(dirname $0)
PARENT_DIR=$(dirname $(dirname $0))

# Reading Names parameters
for i in "$@"; do
    case $i in
{cases}    *) ;;

    esac
done

# Read environment variable file for the environment
if [ -f .env.$environment ]
then
    export $(cat $BASEDIR/../.env.$environment | sed 's/#.*//g' | xargs)
fi

trap trapint SIGINT SIGTERM
function trapint {{
    exit 0
}}

print_usage_and_exit () {{
    echo 'Usage: ./deploy.sh --clear_data=yes|no --host --environment --version --country_config_version --replicas'
    echo "  --clear_data must have a value of 'yes' or 'no' set e.g. --clear_data=yes"
    echo "  --replicas number of supported mongo databases in your replica set.  Can be 1, 3 or 5"
    exit 1
}}

if [ -z "$CLEAR_DATA" ] || {{ [ $CLEAR_DATA != 'no' ] && [ $CLEAR_DATA != 'yes' ] ;}} ; then
    echo 'Error: Argument --clear_data is required & must be either yes or no.'
    print_usage_and_exit
fi

{argument_checks}{required_checks}{mosip_checks}{optional_checks}

SSH_USER=${{SSH_USER:-root}}
SSH_HOST=${{SSH_HOST:-$HOST}}
LOG_LOCATION=${{LOG_LOCATION:-/var/log}}

generate_password() {{
  local password=`openssl rand -base64 25 | tr -cd '[:alnum:]._-' ; echo ''`
  echo $password
}}

USER_MGNT_MONGODB_PASSWORD=`generate_password`

get_docker_tags_from_compose_files() {{
   for VARIABLE_NAME_WITH_DEFAULT_VALUE in ${{IMAGE_TAGS[@]}}; do
      VARIABLE_NAME="${{VARIABLE_NAME_WITH_DEFAULT_VALUE%%:*}}"
      if [ -z "${{!VARIABLE_NAME}}" ]; then
         echo "# uses the default"
      fi
   done
}}

docker_stack_deploy() {{
  ENV_VARIABLES="HOSTNAME=$HOST
  PAPERTRAIL=$PAPERTRAIL
  SMTP_HOST=$SMTP_HOST"
  ssh $SSH_USER@$SSH_HOST "cd /opt/opencrvs && $ENV_VARIABLES docker stack deploy --prune opencrvs"
}}

if [ "$REPLICAS" = "3" ]; then
  REPLICAS_COMPOSE="docker-compose.replicas-3.yml"
elif [ "$REPLICAS" = "1" ]; then
  REPLICAS_COMPOSE="docker-compose.countryconfig.replicas-1.yml"
else
  echo "Unknown error running docker-compose on server as REPLICAS is not 1, 3 or 5."
  exit 1
fi

docker_stack_deploy
echo "This script doesnt ensure that all docker containers successfully start"
"""

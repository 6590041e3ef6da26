#!/usr/bin/env bash
#------------------------------------------------------------------------------------------------
# crvs-migrate test stand-in for opencrvs-countryconfig's infrastructure/emergency-restore-metadata.sh
# (1.3.1+). Flags, the two prompts (read -p, answered from stdin) and messages are the real
# script's. Like it, it reads the backup from this server's own $ROOT_PATH/backups, has no
# `set -e`, prints an error for a missing part and goes on, and exits with the last command's
# status. What it restored is written to $CRVS_NODE_DIR/state/restored.
#------------------------------------------------------------------------------------------------
if docker service ls > /dev/null 2>&1; then IS_LOCAL=false; else IS_LOCAL=true; fi

for i in "$@"; do
  case $i in
  --replicas=*) REPLICAS="${i#*=}"; shift ;;
  --label=*) LABEL="${i#*=}"; shift ;;
  *) ;;
  esac
done

if [ -z "$LABEL" ]; then
  echo "Error: Argument for the --label is required.  You must select which day's or which label's data you would like to roll back to."
  exit 1
fi
ROOT_PATH=${ROOT_PATH:-/data}
if [ -z "$REPLICAS" ]; then
  echo "Error: Argument for the --replicas is required."
  exit 1
fi

function ask_yes_or_no() {
  read -p "$1 ([y]es or [N]o): "
  case $(echo $REPLY | tr '[A-Z]' '[a-z]') in
  y | yes) echo "yes" ;;
  *) echo "no" ;;
  esac
}

if [[ "$CI" != "true" && ("no" == $(ask_yes_or_no "This script will clear all data from OpenCRVS and restore from a backup. Are you sure you are logged in as a root user?  ") ||
"no" == $(ask_yes_or_no "Are you *really* sure?  Have you tested these backup files in a restore process on a development environment first?")) ]]; then
  echo "Skipped."
  exit 0
fi

echo "Working with $REPLICAS replica(s)"
BACKUPS=$ROOT_PATH/backups
for DB in hearth-dev openhim-dev user-mgnt application-config metrics webhooks performance; do
  echo "{ \"dropped\" : \"$DB\", \"ok\" : 1 }"
done
echo "delete any previously created snapshot if any.  This may error on a fresh install with a repository_missing_exception error.  Just ignore it."
for DB in hearth-dev openhim-dev user-mgnt application-config metrics webhooks performance; do
  if gzip -t "$BACKUPS/mongo/$DB-$LABEL.gz" 2>/dev/null; then
    echo "$(date -u +%Y-%m-%dT%H:%M:%S.000+0000)	finished restoring $DB (0 failures)"
  else
    echo "$(date -u +%Y-%m-%dT%H:%M:%S.000+0000)	Failed: open $BACKUPS/mongo/$DB-$LABEL.gz: no such file or directory"
  fi
done
if grep -qs "\"snapshot_$LABEL\"" $BACKUPS/elasticsearch/index-*; then
  echo '{"accepted" : true}'
else
  echo "{\"error\":{\"type\":\"snapshot_missing_exception\",\"reason\":\"[ocrvs:snapshot_$LABEL] is missing\"},\"status\":404}"
fi
for KIND in minio metabase vsexport; do
  mkdir -p $ROOT_PATH/$KIND
  tar -xzf $BACKUPS/$KIND/ocrvs-$LABEL.tar.gz -C $ROOT_PATH/$KIND
done
echo "$LABEL" >> "$CRVS_NODE_DIR/state/restored"
docker service update --force --update-parallelism 1 --update-delay 30s opencrvs_migration

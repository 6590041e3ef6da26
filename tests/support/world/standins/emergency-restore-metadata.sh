@@LICENSE@@
#------------------------------------------------------------------------------------------------------------------
# crvs-migrate rehearsal stand-in for emergency-restore-metadata.sh, as shipped with country config @@VERSION@@.
# Flags, prompts and messages are the real script's. Like the real one it restores from this
# server's own $ROOT_PATH/backups; when a part is not there and the rehearsal world says so
# (`restore_fetches`), it first copies <remote_dir>/<label> from the backup server over ssh,
# which the real script never does (the operator copies the backup to QA first).
# Unlike the real one (no `set -e`), a missing or damaged part makes it fail at the end.
#------------------------------------------------------------------------------------------------------------------

if docker service ls > /dev/null 2>&1; then
  IS_LOCAL=false
else
  IS_LOCAL=true
fi


# Reading Named parameters
for i in "$@"; do
  case $i in
  --replicas=*)
    REPLICAS="${i#*=}"
    shift
    ;;
  --label=*)
    LABEL="${i#*=}"
    shift
    ;;
  *) ;;
  esac
done

print_usage_and_exit() {
  echo 'Usage: ./emergency-restore-metadata.sh --label=XXX --replicas=XXX'
  echo "This script CLEARS ALL DATA and RESTORES'S A SPECIFIC DAY'S or label's data.  This process is irreversable, so USE WITH CAUTION."
  echo "Script must receive a label parameter to restore data from that specific day in format +%Y-%m-%d i.e. 2019-01-01 or that label"
  exit 1
}

echo "crvs-migrate rehearsal stand-in for emergency-restore-metadata.sh on $(crvs-node get node 2>/dev/null || hostname)"

if [ -z "$LABEL" ]; then
  echo "Error: Argument for the --label is required.  You must select which day's or which label's data you would like to roll back to."
  print_usage_and_exit
fi

if [ "$IS_LOCAL" = false ]; then
  ROOT_PATH=${ROOT_PATH:-/data}

  if [ -z "$REPLICAS" ]; then
    echo "Error: Argument for the --replicas is required."
    print_usage_and_exit
  fi
  # The real script reads /data/secrets/opencrvs.secrets (the stand-in: under ROOT_PATH).
  source $ROOT_PATH/secrets/opencrvs.secrets
else
  echo "Error: this stand-in only runs on a swarm manager of the rehearsal world"
  exit 1
fi

# Retrieve 2-step verification to continue
#-----------------------------------------
function ask_yes_or_no() {
  read -p "$1 ([y]es or [N]o): "
  case $(echo $REPLY | tr '[A-Z]' '[a-z]') in
  y | yes) echo "yes" ;;
  *) echo "no" ;;
  esac
}

# We don't need confirmation when running from github action
if [[ "$CI" != "true" && ("no" == $(ask_yes_or_no "This script will clear all data from OpenCRVS and restore from a backup. Are you sure you are logged in as a root user?  ") ||
"no" == $(ask_yes_or_no "Are you *really* sure?  Have you tested these backup files in a restore process on a development environment first?")) ]]; then
  echo "Skipped."
  exit 0
fi

if [ "$REPLICAS" = "0" ]; then
  echo "Working with no replicas"
elif [ "$REPLICAS" = "1" ]; then
  echo "Working with 1 replica"
elif [ "$REPLICAS" = "3" ]; then
  echo "Working with 3 replicas"
elif [ "$REPLICAS" = "5" ]; then
  echo "Working with 5 replicas"
else
  echo "Script must be passed an understandable number of replicas: 0,1,3 or 5"
  exit 1
fi

BACKUPS=$ROOT_PATH/backups
FAILED=0
missing() { echo "Error: $1"; FAILED=1; }

# The stand-in's own step: bring <remote_dir>/<label> over from the backup server.
if [ ! -f "$BACKUPS/mongo/hearth-dev-$LABEL.gz" ] && [ "$(crvs-node get restore_fetches)" = "true" ]; then
  SRC_USER=$(crvs-node get backup_user); SRC_HOST=$(crvs-node get backup_host)
  SRC_PORT=$(crvs-node get backup_port); SRC_DIR=$(crvs-node get backup_remote_dir)
  echo "crvs-migrate rehearsal stand-in: copying $SRC_DIR/$LABEL from $SRC_HOST into $BACKUPS first (the real script expects it there already)"
  mkdir -p "$BACKUPS"
  ssh -p$SRC_PORT $SRC_USER@$SRC_HOST "tar --format=posix -C '$SRC_DIR/$LABEL' -cf - ." | tar -C "$BACKUPS" -xf - \
    || missing "could not copy $SRC_DIR/$LABEL from $SRC_HOST"
fi

# Delete all data from Hearth, OpenHIM, User and Application-config and any other service related Mongo databases
for DB in hearth-dev openhim-dev user-mgnt application-config metrics webhooks performance; do
  echo "MongoDB shell version v4.4.25"
  echo "{ \"dropped\" : \"$DB\", \"ok\" : 1 }"
done
crvs-node cleared
echo "delete any previously created snapshot if any.  This may error on a fresh install with a repository_missing_exception error.  Just ignore it."
rm -rf $ROOT_PATH/minio/ocrvs
mkdir -p $ROOT_PATH/minio/ocrvs
rm -rf $ROOT_PATH/metabase/*
rm -rf $ROOT_PATH/vsexport
mkdir -p $ROOT_PATH/vsexport

SOURCE=""
for DB in hearth-dev openhim-dev user-mgnt application-config metrics webhooks performance; do
  ARCHIVE=$BACKUPS/mongo/$DB-$LABEL.gz
  if [ -s "$ARCHIVE" ] && gzip -t "$ARCHIVE" 2>/dev/null; then
    SOURCE=$(gzip -dc "$ARCHIVE" | sed -n 's/^node=//p')
    RECORDS=$(gzip -dc "$ARCHIVE" | sed -n 's/^records=//p')
    echo "$(date -u +%Y-%m-%dT%H:%M:%S.000+0000)	finished restoring $DB ($RECORDS documents, 0 failures)"
  else
    missing "Failed: open $ARCHIVE: no such file or directory"
  fi
done

if grep -qs "\"snapshot_$LABEL\"" $BACKUPS/elasticsearch/index-*; then
  echo "{\"accepted\" : true}"
else
  missing "{\"error\":{\"type\":\"snapshot_missing_exception\",\"reason\":\"[ocrvs:snapshot_$LABEL] is missing\"},\"status\":404}"
fi

if [ -n "$(ls -A $BACKUPS/influxdb/$LABEL 2>/dev/null)" ]; then
  echo "Restoring shard 1 into ocrvs from $BACKUPS/influxdb/$LABEL"
else
  missing "influxd restore: $BACKUPS/influxdb/$LABEL: no such file or directory"
fi

# Restore all data from Minio, Metabase and VSExport
tar -xzvf $BACKUPS/minio/ocrvs-$LABEL.tar.gz -C $ROOT_PATH/minio || missing "minio archive missing"
tar -xzvf $BACKUPS/metabase/ocrvs-$LABEL.tar.gz -C $ROOT_PATH/metabase || missing "metabase archive missing"
tar -xzvf $BACKUPS/vsexport/ocrvs-$LABEL.tar.gz -C $ROOT_PATH/vsexport || missing "vsexport archive missing"

# Run migrations by restarting migration service
docker service update --force --update-parallelism 1 --update-delay 30s opencrvs_migration

if [ "$FAILED" != 0 ]; then
  echo "crvs-migrate rehearsal stand-in: the restore of $LABEL is incomplete (see the errors above)"
  exit 1
fi
crvs-node restored "$LABEL" "$SOURCE"
echo "crvs-migrate rehearsal stand-in: restored $LABEL (data from $SOURCE)"

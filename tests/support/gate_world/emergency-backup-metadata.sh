#!/usr/bin/env bash
#------------------------------------------------------------------------------------------------
# crvs-migrate test stand-in for opencrvs-countryconfig's infrastructure/emergency-backup-metadata.sh
# (1.3.1+). Flags, checks and messages are the real script's; the dumps are small files written
# here (no MongoDB, Elasticsearch or InfluxDB runs on a test node), and they travel to the backup
# server over ssh as rsync would carry them, only when this manager's first address is
# --production_ip (like the real one, which otherwise copies nothing and exits 0).
# STANDIN_BACKUP_SECONDS (in $CRVS_NODE_DIR/state/backup_seconds) stretches it for cut tests.
#------------------------------------------------------------------------------------------------
set -e

if docker service ls > /dev/null 2>&1; then IS_LOCAL=false; else IS_LOCAL=true; fi

for i in "$@"; do
  case $i in
  --ssh_user=*) SSH_USER="${i#*=}"; shift ;;
  --ssh_host=*) SSH_HOST="${i#*=}"; shift ;;
  --ssh_port=*) SSH_PORT="${i#*=}"; shift ;;
  --production_ip=*) PRODUCTION_IP="${i#*=}"; shift ;;
  --remote_dir=*) REMOTE_DIR="${i#*=}"; shift ;;
  --replicas=*) REPLICAS="${i#*=}"; shift ;;
  --label=*) LABEL="${i#*=}"; shift ;;
  *) ;;
  esac
done

print_usage_and_exit() {
  echo 'Usage: ./emergency-backup-metadata.sh --ssh_user=XXX --ssh_host=XXX --ssh_port=XXX --production_ip=XXX --remote_dir=XXX --replicas=XXX --label=XXX'
  exit 1
}

if [ "$IS_LOCAL" = true ]; then
  echo "Error: this stand-in only runs on a swarm manager"
  exit 1
fi
ROOT_PATH=${ROOT_PATH:-/data}
for name in SSH_USER SSH_HOST SSH_PORT PRODUCTION_IP REMOTE_DIR REPLICAS; do
  if [ -z "${!name}" ]; then
    echo "Error: Argument for the --$(echo $name | tr '[:upper:]' '[:lower:]') is required."
    print_usage_and_exit
  fi
done

for BACKUP_DIR in $ROOT_PATH/backups/*; do
  if [ -d "$BACKUP_DIR" ]; then rm -rf $BACKUP_DIR/*; fi
done
mkdir -p $ROOT_PATH/backups/{elasticsearch/indices,influxdb,mongo,minio,metabase,vsexport}

BACKUP_DATE=$(date +%Y-%m-%d)
L=${LABEL:-$BACKUP_DATE}
REMOTE_DIR="$REMOTE_DIR/${LABEL:-$BACKUP_DATE}"
SECONDS_TOTAL=$(cat "$CRVS_NODE_DIR/state/backup_seconds" 2>/dev/null || echo 0)

for DB in hearth-dev openhim-dev user-mgnt application-config metrics webhooks performance; do
  echo "$(date -u +%Y-%m-%dT%H:%M:%S.000+0000)	writing $DB to archive '$ROOT_PATH/backups/mongo/$DB-$L.gz'"
  printf 'stand-in mongodump\ndb=%s\nlabel=%s\n' "$DB" "$L" | gzip > "$ROOT_PATH/backups/mongo/$DB-$L.gz"
  if [ "$SECONDS_TOTAL" != 0 ]; then sleep "$(awk "BEGIN{print $SECONDS_TOTAL/7}")"; fi
done
SNAPSHOT=snapshot_$L
if [ "$SNAPSHOT" != "$(echo "$SNAPSHOT" | tr '[:upper:]' '[:lower:]')" ]; then
  echo "Failed to backup Elasticsearch. Trying again in..."
  exit 1
fi
ES=$ROOT_PATH/backups/elasticsearch
printf '{"snapshots":[{"name":"%s","uuid":"u1","state":1}]}' "$SNAPSHOT" > $ES/index-0
printf '\0\0\0\0\0\0\0\0' > $ES/index.latest
echo "snapshot $SNAPSHOT" > $ES/snap-u1.dat
mkdir -p $ES/indices/idx/0 && echo "segments" > $ES/indices/idx/0/__0
echo "Snapshot state is SUCCESS"
mkdir -p $ROOT_PATH/backups/influxdb/$L
echo "influx meta" > $ROOT_PATH/backups/influxdb/$L/meta
echo "influx shard" | gzip > $ROOT_PATH/backups/influxdb/$L/s1.tar.gz
for KIND in minio metabase vsexport; do
  mkdir -p $ROOT_PATH/$KIND && echo "$KIND data" > $ROOT_PATH/$KIND/file
  (cd $ROOT_PATH/$KIND && tar -zcf $ROOT_PATH/backups/$KIND/ocrvs-$L.tar.gz .)
  echo "Creating a backup for $KIND"
done

OWN_IP=$(hostname -I | cut -d' ' -f1)
if [[ "$OWN_IP" = "$PRODUCTION_IP" ]]; then
  PARTS="elasticsearch influxdb/$L minio/ocrvs-$L.tar.gz metabase/ocrvs-$L.tar.gz vsexport/ocrvs-$L.tar.gz"
  for DB in hearth-dev user-mgnt openhim-dev application-config metrics webhooks performance; do
    PARTS="$PARTS mongo/$DB-$L.gz"
  done
  tar --format=posix -C $ROOT_PATH/backups -cf - $PARTS | \
    ssh -p$SSH_PORT $SSH_USER@$SSH_HOST "mkdir -p '$REMOTE_DIR' && tar -C '$REMOTE_DIR' -xf -"
  for PART in elasticsearch minio Metabase VSExport influx hearth user openhim application-config metrics webhooks performance; do
    echo "Copied $PART backup files to remote server."
  done
fi

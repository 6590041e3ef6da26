@@LICENSE@@
#------------------------------------------------------------------------------------------------------------------
# crvs-migrate rehearsal stand-in for emergency-backup-metadata.sh, as shipped with country config @@VERSION@@.
# Flags, checks, messages and the layout it leaves on the backup server are the real script's;
# the dumps are small files written by this script (no MongoDB, Elasticsearch or InfluxDB runs
# here) and they travel to the backup server over ssh as rsync would carry them.
#------------------------------------------------------------------------------------------------------------------
set -e

LAYOUT=@@LAYOUT@@
WORKING_DIR=$(pwd)

if docker service ls > /dev/null 2>&1; then
  IS_LOCAL=false
else
  IS_LOCAL=true
fi

# Reading Named parameters
for i in "$@"; do
  case $i in
  --ssh_user=*)
    SSH_USER="${i#*=}"
    shift
    ;;
  --ssh_host=*)
    SSH_HOST="${i#*=}"
    shift
    ;;
  --ssh_port=*)
    SSH_PORT="${i#*=}"
    shift
    ;;
  --production_ip=*)
    PRODUCTION_IP="${i#*=}"
    shift
    ;;
  --remote_dir=*)
    REMOTE_DIR="${i#*=}"
    shift
    ;;
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
  echo 'Usage: ./emergency-backup-metadata.sh --ssh_user=XXX --ssh_host=XXX --ssh_port=XXX --production_ip=XXX --remote_dir=XXX --replicas=XXX --label=XXX'
  echo "Script must receive SSH details and a target directory of a remote server to copy backup files to."
  echo "Optionally a LABEL i.e. 'v1.0.1' can be provided to be appended to the backup file labels"
  echo "7 days of backup data will be retained in the manager node"
  exit 1
}

echo "crvs-migrate rehearsal stand-in for emergency-backup-metadata.sh ($LAYOUT layout) on $(crvs-node get node 2>/dev/null || hostname)"

if [ "$IS_LOCAL" = false ]; then
  ROOT_PATH=${ROOT_PATH:-/data}
  if [ -z "$SSH_USER" ]; then
    echo "Error: Argument for the --ssh_user is required."
    print_usage_and_exit
  fi
  if [ -z "$SSH_HOST" ]; then
    echo "Error: Argument for the --ssh_host is required."
    print_usage_and_exit
  fi
  if [ -z "$SSH_PORT" ]; then
    echo "Error: Argument for the --ssh_port is required."
    print_usage_and_exit
  fi
  if [ -z "$PRODUCTION_IP" ]; then
    echo "Error: Argument for the --production_ip is required."
    print_usage_and_exit
  fi
  if [ -z "$REMOTE_DIR" ]; then
    echo "Error: Argument for the --remote_dir is required."
    print_usage_and_exit
  fi
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

# Find and remove all empty subdirectories under the top-level directories
for BACKUP_DIR in $ROOT_PATH/backups/*; do
  if [ -d "$BACKUP_DIR" ]; then
    rm -rf $BACKUP_DIR/*
  fi
done

mkdir -p $ROOT_PATH/backups/elasticsearch
mkdir -p $ROOT_PATH/backups/elasticsearch/indices
mkdir -p $ROOT_PATH/backups/influxdb
mkdir -p $ROOT_PATH/backups/mongo
mkdir -p $ROOT_PATH/backups/minio
mkdir -p $ROOT_PATH/backups/metabase
mkdir -p $ROOT_PATH/backups/vsexport
# (the real script chowns these to 1000:1000 here, which needs root)
mkdir -p $ROOT_PATH/metabase

if [ "$REPLICAS" = "0" ]; then
  HOST=mongo1
  echo "Working with no replicas"
elif [ "$REPLICAS" = "1" ]; then
  HOST=rs0/mongo1
  echo "Working with 1 replica"
elif [ "$REPLICAS" = "3" ]; then
  HOST=rs0/mongo1,mongo2,mongo3
  echo "Working with 3 replicas"
elif [ "$REPLICAS" = "5" ]; then
  HOST=rs0/mongo1,mongo2,mongo3,mongo4,mongo5
  echo "Working with 5 replicas"
else
  echo "Script must be passed an understandable number of replicas: 0,1,3 or 5"
  exit 1
fi

NODE=$(crvs-node get node)
BACKUP_DATE=$(date +%Y-%m-%d)
# As the real scripts differ (crvs-migrate tells them apart by this line): 1.3.1+ only.
@@LABEL_DIR@@

# mongodump of each database (the stand-in writes a small gzip archive naming what it holds)
for DB in hearth-dev openhim-dev user-mgnt application-config metrics webhooks performance; do
  ARCHIVE=$ROOT_PATH/backups/mongo/$DB-${LABEL:-$BACKUP_DATE}.gz
  RECORDS=$(crvs-node get records | sed -n "s/.*\"$DB\": \([0-9]*\).*/\1/p")
  echo "$(date -u +%Y-%m-%dT%H:%M:%S.000+0000)	writing $DB to archive '$ARCHIVE'"
  printf 'crvs-migrate rehearsal mongodump\ndb=%s\nnode=%s\nlabel=%s\nrecords=%s\nhost=%s\n' \
    "$DB" "$NODE" "${LABEL:-$BACKUP_DATE}" "${RECORDS:-0}" "$HOST" | gzip > "$ARCHIVE"
  echo "$(date -u +%Y-%m-%dT%H:%M:%S.000+0000)	done dumping $DB (${RECORDS:-0} documents)"
done

echo ""
echo "Delete all currently existing snapshots"
echo ""
echo ""
echo "Register backup folder as an Elasticsearch repository for backing up the search data"
echo ""
echo ""
echo "Backup Elasticsearch as a set of snapshot files into an elasticsearch sub folder"
echo ""
if [ "$LAYOUT" = "1.3.0" ]; then
  SNAPSHOT=snapshot_${VERSION:-$BACKUP_DATE}
else
  SNAPSHOT=snapshot_${LABEL:-$BACKUP_DATE}
fi
if [ "$SNAPSHOT" != "$(echo "$SNAPSHOT" | tr '[:upper:]' '[:lower:]')" ]; then
  echo '{"error":{"root_cause":[{"type":"invalid_snapshot_name_exception","reason":"['"$SNAPSHOT"'] Invalid snapshot name ['"$SNAPSHOT"'], must be lowercase"}]},"status":400}'
  echo "Failed to backup Elasticsearch. Trying again in..."
  echo "(crvs-migrate rehearsal stand-in: the real script retries forever here; giving up)"
  exit 1
fi
UUID=$(echo "$NODE-$SNAPSHOT-$(date +%s%N)" | sha256sum | cut -c1-22)
ES=$ROOT_PATH/backups/elasticsearch
printf '{"min_version":"7.6.0","uuid":"%s","snapshots":[{"name":"%s","uuid":"%s","state":1,"index_metadata_lookup":{"ocrvs":"idx"},"version":"7.17.0"}],"indices":{"ocrvs":{"id":"idx","snapshots":["%s"]}}}' \
  "$UUID" "$SNAPSHOT" "$UUID" "$UUID" > $ES/index-0
printf '\0\0\0\0\0\0\0\0' > $ES/index.latest
echo "snapshot $SNAPSHOT of $NODE" > $ES/snap-$UUID.dat
echo "cluster metadata of $NODE" > $ES/meta-$UUID.dat
mkdir -p $ES/indices/idx/0
echo "lucene segments of the ocrvs index on $NODE" > $ES/indices/idx/0/__0
echo "Snapshot state is SUCCESS"

echo "Backing up Influx on own node"
INFLUX=$ROOT_PATH/backups/influxdb/${LABEL:-$BACKUP_DATE}
mkdir -p $INFLUX
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
echo "influxdb portable backup meta of $NODE" > $INFLUX/$STAMP.meta
echo "{\"files\":[\"$STAMP.s1.tar.gz\"]}" > $INFLUX/$STAMP.manifest
echo "influxdb shard 1 of $NODE" | gzip > $INFLUX/$STAMP.s1.tar.gz

echo "Creating a backup for Minio"

LOCAL_MINIO_BACKUP=$ROOT_PATH/backups/minio/ocrvs-${LABEL:-$BACKUP_DATE}.tar.gz
cd $ROOT_PATH/minio && tar -zcvf $LOCAL_MINIO_BACKUP . && cd /

echo "Creating a backup for Metabase"

LOCAL_METABASE_BACKUP=$ROOT_PATH/backups/metabase/ocrvs-${LABEL:-$BACKUP_DATE}.tar.gz
cd $ROOT_PATH/metabase && tar -zcvf $LOCAL_METABASE_BACKUP . && cd /

echo "Creating a backup for VSExport"

LOCAL_VSEXPORT_BACKUP=$ROOT_PATH/backups/vsexport/ocrvs-${LABEL:-$BACKUP_DATE}.tar.gz
cd $ROOT_PATH/vsexport && tar -zcvf $LOCAL_VSEXPORT_BACKUP . && cd /

# Copy the backups to an offsite server in production
#----------------------------------------------------
# The real script runs one `rsync -a --rsync-path='mkdir -p DIR && rsync' --rsh='ssh -p PORT'` per
# part; the stand-in sends the same files in one tar stream over one ssh connection. The local
# backups/ directory is already laid out as <remote_dir>/<label> must be.
L=${LABEL:-$BACKUP_DATE}
PARTS="elasticsearch influxdb/$L"
COPIED="elasticsearch influx"
if [ "$LAYOUT" != "1.3.0" ]; then
  PARTS="$PARTS minio/ocrvs-$L.tar.gz metabase/ocrvs-$L.tar.gz vsexport/ocrvs-$L.tar.gz"
  COPIED="$COPIED minio Metabase VSExport"
fi
for DB in hearth-dev user-mgnt openhim-dev application-config metrics webhooks performance; do
  PARTS="$PARTS mongo/$DB-$L.gz"
done
COPIED="$COPIED hearth user openhim application-config metrics webhooks performance"
OWN_IP=${CRVS_NODE_IP:-$(hostname -I | cut -d' ' -f1)}
if [[ "$OWN_IP" = "$PRODUCTION_IP" ]]; then
  if [ "$LAYOUT" = "1.3.0" ]; then
    # 1.3.0 copies backups/minio/<label> and backups/metabase/<label>, which do not exist,
    # and never copies vsexport.
    echo "rsync: link_stat \"$ROOT_PATH/backups/minio/$L\" failed: No such file or directory (2)"
    echo "rsync: link_stat \"$ROOT_PATH/backups/metabase/$L\" failed: No such file or directory (2)"
  fi
  tar --format=posix -C $ROOT_PATH/backups -cf - $PARTS | \
    ssh -p$SSH_PORT $SSH_USER@$SSH_HOST "mkdir -p '$REMOTE_DIR' && tar -C '$REMOTE_DIR' -xf -"
  for PART in $COPIED; do
    echo "Copied $PART backup files to remote server."
  done
  crvs-node event backup label=$L remote="$SSH_HOST:$REMOTE_DIR"
fi

# Cleanup any old backups from influx or mongo. Keep previous 7 days of data and all elastic data
find $ROOT_PATH/backups/influxdb -mtime +7 -exec rm {} \;
find $ROOT_PATH/backups/mongo -mtime +7 -exec rm {} \;
find $ROOT_PATH/backups/minio -mtime +7 -exec rm {} \;
find $ROOT_PATH/backups/metabase -mtime +7 -exec rm {} \;
find $ROOT_PATH/backups/vsexport -mtime +7 -exec rm {} \;

@@LICENSE@@
# crvs-migrate rehearsal stand-in for infrastructure/clear-all-data.sh: the real one drops every
# database and index; this one empties the node's data directories and records it.
set -e

print_usage_and_exit () {
    echo 'Usage: ./clear-all-data.sh REPLICAS'
    exit 1
}

if [ -z "$1" ] ; then
    echo 'Error: Argument REPLICAS is required in position 1.'
    print_usage_and_exit
fi

echo "crvs-migrate rehearsal stand-in for clear-all-data.sh on $(crvs-node get node)"
ROOT_PATH=${ROOT_PATH:-/data}
rm -rf "$ROOT_PATH/minio/ocrvs" "$ROOT_PATH/metabase/"* "$ROOT_PATH/vsexport"
mkdir -p "$ROOT_PATH/minio/ocrvs" "$ROOT_PATH/vsexport"
crvs-node cleared
echo "All data cleared"

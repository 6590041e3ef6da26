@@LICENSE@@
# crvs-migrate rehearsal stand-in for infrastructure/run-migrations.sh.
set -e
echo "crvs-migrate rehearsal stand-in for run-migrations.sh (the search index is not created)"
# run migration by restarting migration service
docker service update --force --update-parallelism 1 --update-delay 30s opencrvs_migration

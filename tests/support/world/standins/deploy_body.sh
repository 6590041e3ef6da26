# ---------------------------------------------------------------------------------------------
# crvs-migrate rehearsal stand-in: everything above is deploy.sh as OpenCRVS ships it; from here
# on it deploys to the rehearsal nodes over ssh instead of pulling images from Docker Hub.
# It copies infrastructure/ to the server as the real script does, and runs
# `docker stack deploy` there (the node's stand-in docker records the versions).
# ---------------------------------------------------------------------------------------------
echo "crvs-migrate rehearsal stand-in for infrastructure/deploy.sh (no image is downloaded)"
OPENCRVS_DIR_REMOTE='${OPENCRVS_DIR:-/opt/opencrvs}'

echo
echo "Deploying VERSION $VERSION to $SSH_HOST..."
echo
echo "Deploying COUNTRY_CONFIG_VERSION $COUNTRY_CONFIG_VERSION to $SSH_HOST..."
echo

COMPOSE_FILED_FROM_CORE="docker-compose.deps.yml docker-compose.yml"
COMMON_COMPOSE_FILES="$COMPOSE_FILED_FROM_CORE docker-compose.deploy.yml"

if [ "$REPLICAS" = "3" ]; then
  REPLICAS_COMPOSE="docker-compose.replicas-3.yml docker-compose.countryconfig.replicas-3.yml"
elif [ "$REPLICAS" = "5" ]; then
  REPLICAS_COMPOSE="docker-compose.replicas-5.yml docker-compose.countryconfig.replicas-5.yml"
elif [ "$REPLICAS" = "1" ]; then
  REPLICAS_COMPOSE="docker-compose.countryconfig.replicas-1.yml"
else
  echo "Unknown error running docker-compose on server as REPLICAS is not 1, 3 or 5."
  exit 1
fi

if [[ "$ENV" = "staging" ]]; then
  ENVIRONMENT_COMPOSE="docker-compose.countryconfig.staging-deploy.yml docker-compose.staging-deploy.yml"
elif [[ "$ENV" = "qa" ]]; then
  ENVIRONMENT_COMPOSE="docker-compose.countryconfig.qa-deploy.yml docker-compose.qa-deploy.yml"
elif [[ "$ENV" = "production" ]]; then
  ENVIRONMENT_COMPOSE="docker-compose.countryconfig.prod-deploy.yml docker-compose.prod-deploy.yml"
elif [[ "$ENV" = "demo" ]]; then
  ENVIRONMENT_COMPOSE="docker-compose.countryconfig.demo-deploy.yml docker-compose.prod-deploy.yml"
else
  echo "Unknown error running docker-compose on server as ENV is not staging, qa, demo or production."
  exit 1
fi

# The real script rsyncs infrastructure/ (and the compose files) to /opt/opencrvs/.
echo "Copying infrastructure/ to $SSH_HOST:$OPENCRVS_DIR_REMOTE"
tar -C "$BASEDIR/.." -cf - infrastructure | \
  ssh $SSH_USER@$SSH_HOST 'mkdir -p "'$OPENCRVS_DIR_REMOTE'" && tar -C "'$OPENCRVS_DIR_REMOTE'" -xf -'

echo "Pulling all docker images. This might take a while"
EXISTING_IMAGES=$(ssh $SSH_USER@$SSH_HOST "docker images --format '{{.Repository}}:{{.Tag}}'")
IMAGE_TAGS_TO_DOWNLOAD="opencrvs/ocrvs-auth:$VERSION opencrvs/ocrvs-gateway:$VERSION opencrvs/ocrvs-migration:$VERSION $DOCKERHUB_ACCOUNT/$DOCKERHUB_REPO:$COUNTRY_CONFIG_VERSION"
PULLS=""
for tag in ${IMAGE_TAGS_TO_DOWNLOAD[@]}; do
  if [[ $EXISTING_IMAGES == *"$tag"* ]]; then
    echo "$tag already exists on the machine. Skipping..."
    continue
  fi
  echo "Downloading $tag"
  PULLS="$PULLS && docker pull $tag"
done
# (the real script runs one ssh per image, retrying each until it succeeds)
if [ -n "$PULLS" ]; then
  ssh $SSH_USER@$SSH_HOST "cd $OPENCRVS_DIR_REMOTE $PULLS"
fi

split_and_join() {
   separator_for_splitting=$1
   separator_for_joining=$2
   text=$3
   SPLIT=$(echo $text | sed -e "s/$separator_for_splitting/$separator_for_joining/g")
   echo $SPLIT
}

echo "DEPLOYING THIS ENVIRONMENT: $ENVIRONMENT_COMPOSE"
echo "DEPLOYING THESE REPLICAS: $REPLICAS_COMPOSE"
echo "Updating docker swarm stack with new compose files"
# Only the versions travel to the server (the real script sends every secret on this line).
ssh $SSH_USER@$SSH_HOST 'cd '$OPENCRVS_DIR_REMOTE' && \
  HOSTNAME='$HOST' VERSION='$VERSION' COUNTRY_CONFIG_VERSION='$COUNTRY_CONFIG_VERSION' DOCKERHUB_ACCOUNT='$DOCKERHUB_ACCOUNT' DOCKERHUB_REPO='$DOCKERHUB_REPO' docker stack deploy --prune -c '$(split_and_join " " " -c " "$COMMON_COMPOSE_FILES $ENVIRONMENT_COMPOSE $REPLICAS_COMPOSE")' --with-registry-auth opencrvs'

echo
echo "This script doesnt ensure that all docker containers successfully start, just that docker_stack_deploy ran successfully."
echo
echo "Waiting 2 mins for mongo to deploy before working with data. Please note it can take up to 10 minutes for the entire stack to deploy in some scenarios."
echo "(crvs-migrate rehearsal stand-in: not waiting)"
echo

if [ $CLEAR_DATA == "yes" ] ; then
    echo
    echo "Clearing all existing data..."
    echo
    ssh $SSH_USER@$SSH_HOST "bash $OPENCRVS_DIR_REMOTE/infrastructure/clear-all-data.sh $REPLICAS"

    echo
    echo "Running migrations..."
    echo
    ssh $SSH_USER@$SSH_HOST "bash $OPENCRVS_DIR_REMOTE/infrastructure/run-migrations.sh"
fi

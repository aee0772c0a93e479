#!/bin/sh
# The builder pattern, as Docker's multi-stage documentation shows it.
echo Building app:build

docker build -t app:build . -f Dockerfile.build

docker container create --name extract app:build
docker container cp extract:/go/src/app/app ./app
docker container rm -f extract

echo Building app:latest

docker build --no-cache -t app:latest .
rm ./app

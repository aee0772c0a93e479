ARG NODE_VERSION=18
FROM node:${NODE_VERSION}-alpine
RUN npm install -g nodemon

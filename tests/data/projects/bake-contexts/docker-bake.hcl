# Modelled on the "Using a target as a build context" example of Docker's bake documentation
# (docs.docker.com/build/bake/contexts) and the "_common" inherits pattern of docker/buildx's
# own docker-bake.hcl.
variable "GO_VERSION" {
  default = "1.22"
}
variable "REGISTRY" {}

group "default" {
  targets = ["app"]
}

group "all" {
  targets = ["default", "tools"]
}

target "_common" {
  args = {
    GO_VERSION = GO_VERSION
    BUILDKIT_CONTEXT_KEEP_GIT_DIR = "1"
  }
}

target "base" {
  inherits   = ["_common"]
  context    = "base"
  dockerfile = "baseapp.Dockerfile"
  tags       = ["example/base:latest"]
}

target "app" {
  inherits = ["_common"]
  contexts = {
    baseapp = "target:base"
    alpine  = "docker-image://alpine:3.20"
    src     = "./src"
  }
  tags      = ["${REGISTRY}/app:latest"]
  platforms = ["linux/amd64", "linux/arm64"]
}

target "tools" {
  dockerfile = "tools.Dockerfile"
  target     = "lint"
  tags       = [lower("Tools")]
}

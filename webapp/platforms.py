"""Platform strings as containerd reads them: ``linux/x86_64`` is ``linux/amd64``.

BuildKit normalises every platform it is given (``--platform``, ``FROM --platform``) with
containerd's ``platforms`` package; this is our own code for the rules the graph needs, and the
builtin ``BUILD*``/``TARGET*`` ARGs derived from a platform.
"""

from __future__ import annotations

DEFAULT_PLATFORM = "linux/amd64"


def normalize_platform(platform: str) -> str:
    """``linux/x86_64`` -> ``linux/amd64``, ``linux/arm64/v8`` -> ``linux/arm64``, as containerd does."""
    parts = platform.lower().split("/")
    os_name = "darwin" if parts[0] == "macos" else parts[0]
    if len(parts) < 2:
        return os_name
    arch, variant = parts[1], (parts[2] if len(parts) > 2 else "")
    if arch == "i386":
        arch, variant = "386", ""
    elif arch in ("x86_64", "x86-64", "amd64"):
        arch = "amd64"
        variant = "" if variant == "v1" else variant
    elif arch in ("aarch64", "arm64"):
        arch = "arm64"
        if variant in ("8", "v8", "v8.0"):
            variant = ""
        elif variant in ("9", "9.0", "v9.0"):
            variant = "v9"
    elif arch == "armhf":
        arch, variant = "arm", "v7"
    elif arch == "armel":
        arch, variant = "arm", "v6"
    elif arch == "arm":
        if variant in ("", "7"):
            variant = "v7"
        elif variant in ("5", "6", "8"):
            variant = "v" + variant
    return "/".join(p for p in (os_name, arch, variant) if p)


def platform_args(platform: str, prefix: str) -> dict[str, str]:
    """The builtin ``<prefix>PLATFORM/OS/ARCH/VARIANT/OSVERSION`` args for a platform string."""
    platform = normalize_platform(platform)
    parts = platform.split("/")
    os_name = parts[0]
    arch = parts[1] if len(parts) > 1 else ""
    variant = parts[2] if len(parts) > 2 else ""
    return {
        f"{prefix}PLATFORM": platform,
        f"{prefix}OS": os_name,
        f"{prefix}OSVERSION": "",
        f"{prefix}ARCH": arch,
        f"{prefix}VARIANT": variant,
    }

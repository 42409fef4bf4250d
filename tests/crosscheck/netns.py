"""Network namespaces for the live tests (read_live, sniff_live, sr_live,
source_live): each test names its namespaces after its pid, creates them,
and deletes them whatever happens; `delete_namespaces(..., stale=True)`
also removes those of runs that died before they could."""
import os
import subprocess


def sh(*cmd, check=True, timeout=30, **kw):
    """Runs cmd; a non-zero exit raises with its output unless check is False."""
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise RuntimeError("%s: exit %d\n%s%s" % (" ".join(cmd), r.returncode, r.stdout, r.stderr))
    return r


def in_ns(ns, *cmd):
    return ["ip", "netns", "exec", ns, *cmd]


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def delete_namespaces(mine, pattern, stale=False):
    """The namespaces in `mine`; with stale, also those matching `pattern`
    (whose group 1 is a pid) of runs that are no longer alive."""
    for ns in sh("ip", "netns", "list", check=False).stdout.split():
        m = pattern.match(ns)
        if ns in mine or (stale and m and not alive(int(m.group(1)))):
            sh("ip", "netns", "del", ns, check=False)

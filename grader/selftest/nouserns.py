#!/usr/bin/env python3
"""nouserns.py - run a command where the kernel refuses user namespaces.

Usage: python3 grader/selftest/nouserns.py CMD [ARG...]

Installs a seccomp filter like the one in Docker's default profile:
unshare() and clone() with CLONE_NEWUSER fail with EPERM, clone3() with
ENOSYS (so that the C library falls back to clone()); everything else is
allowed. With setpriv dropping CAP_SYS_ADMIN and CAP_SYS_PTRACE, the
self-test grades in the setting of a root container on Gradescope. (A
filter needs no package: Python's ctypes and prctl() are enough.)
"""
import ctypes
import os
import struct
import sys

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
AUDIT_ARCH_X86_64 = 0xC000003E
NR_CLONE, NR_UNSHARE, NR_CLONE3 = 56, 272, 435
CLONE_NEWUSER = 0x10000000
RET_ALLOW = 0x7FFF0000
RET_ERRNO = 0x00050000
EPERM, ENOSYS = 1, 38

# BPF: (code, jt, jf, k)
LD_W_ABS, JEQ_K, JSET_K, RET_K = 0x20, 0x15, 0x45, 0x06
prog = [
    (LD_W_ABS, 0, 0, 4),                      # arch
    (JEQ_K, 0, 8, AUDIT_ARCH_X86_64),         # other arch: allow
    (LD_W_ABS, 0, 0, 0),                      # syscall number
    (JEQ_K, 5, 0, NR_CLONE3),
    (JEQ_K, 1, 0, NR_UNSHARE),
    (JEQ_K, 0, 4, NR_CLONE),
    (LD_W_ABS, 0, 0, 16),                     # args[0], low half
    (JSET_K, 0, 2, CLONE_NEWUSER),
    (RET_K, 0, 0, RET_ERRNO | EPERM),
    (RET_K, 0, 0, RET_ERRNO | ENOSYS),
    (RET_K, 0, 0, RET_ALLOW),
]
code = b"".join(struct.pack("HBBI", *ins) for ins in prog)
buf = ctypes.create_string_buffer(code)
fprog = struct.pack("HL", len(prog), ctypes.addressof(buf))
fbuf = ctypes.create_string_buffer(fprog)
libc = ctypes.CDLL(None, use_errno=True)
libc.prctl.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4
if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or \
   libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fbuf), 0, 0) != 0:
    sys.exit("nouserns: seccomp: " + os.strerror(ctypes.get_errno()))
os.execvp(sys.argv[1], sys.argv[1:])

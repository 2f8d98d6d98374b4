-- man.lua - pandoc filter: `mmap`, `mmap()` or `mmap(2)` in inline code
-- becomes a link to its Linux man page, for the calls the labs use.
local section = {
  mmap = 2, munmap = 2, mprotect = 2, open = 2, close = 2, read = 2,
  write = 2, fork = 2, waitpid = 2, wait = 2, ftruncate = 2, fstat = 2,
  pipe = 2, fchmod = 2, umask = 2, kill = 2, sigaction = 2, getrusage = 2,
  setuid = 2, setgid = 2, setrlimit = 2, getrlimit = 2, futex = 2,
  sigprocmask = 2, sigwaitinfo = 2, execve = 2, dup2 = 2, unlink = 2,
  shm_open = 3, shm_unlink = 3, sem_init = 3, sem_destroy = 3,
  sem_open = 3, sem_close = 3, sem_unlink = 3, sem_wait = 3,
  sem_trywait = 3, sem_timedwait = 3, sem_post = 3, sysconf = 3,
  snprintf = 3, sprintf = 3, printf = 3, perror = 3, exit = 3,
  atomic_fetch_add = 3, clock_gettime = 2, nanosleep = 2, memcpy = 3,
  malloc = 3, free = 3, strerror = 3, pthread_create = 3,
}

function Code(el)
  local name, sec = el.text:match("^([%a_][%w_]*)%(?(%d?)%)?$")
  if name == nil or section[name] == nil then
    return nil
  end
  if not el.text:match("%(") and #el.text < 4 then
    return nil                        -- a bare short word (read, open) may not be the call
  end
  sec = (sec ~= "" and tonumber(sec)) or section[name]
  local url = string.format("https://man7.org/linux/man-pages/man%d/%s.%d.html",
                            sec, name, sec)
  return pandoc.Link(el, url, name .. "(" .. sec .. ")")
end

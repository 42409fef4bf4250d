/* The C baseline of bench/send.sh: sends one raw IPv4 packet COUNT times on
 * an IP_HDRINCL raw socket, as fast as the kernel takes it, with one sendto
 * per packet or with sendmmsg batches of 64. THREADS threads share the count
 * (each on its own socket, pinned to the next CPU of the allowed set, as
 * trafgen -P does). Only packets the kernel accepted are counted.
 *
 *   send_baseline sendto|sendmmsg COUNT THREADS HEX
 *
 * HEX is the whole IPv4 packet; its destination must be in 127.0.0.0/8.
 * Prints "sent N": the packets accepted. Build: cc -O2 -pthread. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { BATCH = 64, MAX_THREADS = 64 };

static unsigned char packet[65535];
static size_t packet_len;
static struct sockaddr_in dest;
static int use_mmsg;

struct worker {
  pthread_t thread;
  int cpu; /* -1: not pinned */
  unsigned long long count, sent;
  int error;
};

static void die(const char *what) {
  fprintf(stderr, "send_baseline: %s\n", what);
  exit(2);
}

/* A full queue (ENOBUFS) is waited out, as pkt and trafgen do; anything else ends the run. */
static int retry(int err) {
  if (err == ENOBUFS || err == EAGAIN || err == EINTR) {
    sched_yield();
    return 1;
  }
  return 0;
}

static void *run(void *arg) {
  struct worker *w = arg;
  if (w->cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(w->cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
  }
  int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW); /* IPPROTO_RAW implies IP_HDRINCL */
  int on = 1;
  if (fd < 0 || setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &on, sizeof on) < 0) {
    w->error = errno;
    return NULL;
  }
  if (!use_mmsg) {
    while (w->sent < w->count) {
      if (sendto(fd, packet, packet_len, 0, (struct sockaddr *)&dest, sizeof dest) == (ssize_t)packet_len)
        w->sent++;
      else if (!retry(errno)) {
        w->error = errno;
        break;
      }
    }
  } else {
    struct iovec iov = {packet, packet_len};
    struct mmsghdr msgs[BATCH];
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < BATCH; i++) {
      msgs[i].msg_hdr.msg_name = &dest;
      msgs[i].msg_hdr.msg_namelen = sizeof dest;
      msgs[i].msg_hdr.msg_iov = &iov;
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    while (w->sent < w->count) {
      unsigned long long left = w->count - w->sent;
      int n = sendmmsg(fd, msgs, left < BATCH ? (unsigned)left : BATCH, 0);
      if (n > 0)
        w->sent += (unsigned)n; /* a partial batch is continued by the next call */
      else if (!retry(errno)) {
        w->error = errno;
        break;
      }
    }
  }
  close(fd);
  return NULL;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int main(int argc, char **argv) {
  if (argc != 5) die("usage: send_baseline sendto|sendmmsg COUNT THREADS HEX");
  if (strcmp(argv[1], "sendto") == 0)
    use_mmsg = 0;
  else if (strcmp(argv[1], "sendmmsg") == 0)
    use_mmsg = 1;
  else
    die("the mode is sendto or sendmmsg");
  char *end;
  unsigned long long count = strtoull(argv[2], &end, 10);
  if (*end || !*argv[2]) die("COUNT is a number");
  long threads = strtol(argv[3], &end, 10);
  if (*end || threads < 1 || threads > MAX_THREADS) die("THREADS is 1..64");

  const char *hex = argv[4];
  size_t digits = strlen(hex);
  if (digits % 2 || digits / 2 > sizeof packet || digits < 40) die("HEX is an IPv4 packet, 20..65535 bytes");
  for (size_t i = 0; i < digits / 2; i++) {
    int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) die("HEX holds hex digits only");
    packet[i] = (unsigned char)(hi << 4 | lo);
  }
  packet_len = digits / 2;
  if (packet[0] >> 4 != 4) die("HEX is not an IPv4 packet");
  /* Network safety: loopback only. */
  if (packet[16] != 127) die("the destination is not in 127.0.0.0/8: refused");
  dest.sin_family = AF_INET;
  memcpy(&dest.sin_addr, packet + 16, 4);

  cpu_set_t allowed;
  int cpus[MAX_THREADS], ncpus = 0;
  if (sched_getaffinity(0, sizeof allowed, &allowed) == 0)
    for (int c = 0; c < CPU_SETSIZE && ncpus < MAX_THREADS; c++)
      if (CPU_ISSET(c, &allowed)) cpus[ncpus++] = c;

  struct worker w[MAX_THREADS];
  memset(w, 0, sizeof w);
  for (long i = 0; i < threads; i++) {
    w[i].count = count / threads + ((unsigned long long)i < count % threads);
    w[i].cpu = threads > 1 && ncpus > 0 ? cpus[i % ncpus] : -1;
    if (pthread_create(&w[i].thread, NULL, run, &w[i]) != 0) die("cannot start a thread");
  }
  unsigned long long sent = 0;
  int error = 0;
  for (long i = 0; i < threads; i++) {
    pthread_join(w[i].thread, NULL);
    sent += w[i].sent;
    if (w[i].error) error = w[i].error;
  }
  printf("sent %llu\n", sent);
  if (error) {
    fprintf(stderr, "send_baseline: %s after %llu packets\n", strerror(error), sent);
    return 1;
  }
  return 0;
}

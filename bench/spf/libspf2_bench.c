/* libspf2 on the same zone and cases as spf_bench: its in-memory zone DNS
 * layer (SPF_dns_zone) is loaded from a flat "name TYPE data" file written by
 * pyspf_bench.py --flat, so every answer is at hand (the warm-cache case).
 * Prints {"per_second": N} as JSON. Usage: libspf2_bench FLAT CASES SECONDS */
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <spf2/spf.h>
#include <spf2/spf_dns_zone.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

struct test_case { char ip[64], from[256], helo[256], want[32]; };

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *check(SPF_server_t *server, const struct test_case *c) {
  static char result[32];
  SPF_request_t *req = SPF_request_new(server);
  if (strchr(c->ip, ':')) SPF_request_set_ipv6_str(req, c->ip);
  else SPF_request_set_ipv4_str(req, c->ip);
  SPF_request_set_helo_dom(req, c->helo);
  SPF_request_set_env_from(req, c->from);
  SPF_response_t *resp = NULL;
  SPF_request_query_mailfrom(req, &resp);
  snprintf(result, sizeof result, "%s", SPF_strresult(SPF_response_result(resp)));
  SPF_response_free(resp);
  SPF_request_free(req);
  return result;
}

int main(int argc, char **argv) {
  if (argc != 4) return 2;
  SPF_dns_server_t *zone = SPF_dns_zone_new(NULL, "bench", 0);
  FILE *f = fopen(argv[1], "r");
  char line[2048];
  while (f && fgets(line, sizeof line, f)) {
    char *name = strtok(line, "\t"), *type = strtok(NULL, "\t"), *data = strtok(NULL, "\n");
    if (!name || !type || !data) continue;
    ns_type t = strcmp(type, "A") == 0 ? ns_t_a : strcmp(type, "AAAA") == 0 ? ns_t_aaaa
              : strcmp(type, "MX") == 0 ? ns_t_mx : strcmp(type, "PTR") == 0 ? ns_t_ptr : ns_t_txt;
    SPF_dns_zone_add_str(zone, name, t, NETDB_SUCCESS, data);
  }
  if (f) fclose(f);
  SPF_server_t *server = SPF_server_new_dns(zone, 0);
  struct test_case cases[64];
  int n = 0;
  FILE *cf = fopen(argv[2], "r");
  while (cf && n < 64 && fgets(line, sizeof line, cf)) {
    if (line[0] == '#' || line[0] == '\n') continue;
    struct test_case *c = &cases[n];
    if (sscanf(line, "%63s %255s %255s %31s", c->ip, c->from, c->helo, c->want) == 4) n++;
  }
  if (cf) fclose(cf);
  for (int i = 0; i < n; i++) {
    const char *got = check(server, &cases[i]);
    if (strcmp(got, cases[i].want) != 0) {
      fprintf(stderr, "libspf2 %s %s: got %s, want %s\n", cases[i].ip, cases[i].from, got, cases[i].want);
      return 1;
    }
  }
  double seconds = atof(argv[3]), start = now();
  long count = 0;
  while (now() - start < seconds) {
    for (int i = 0; i < n; i++) check(server, &cases[i]);
    count += n;
  }
  printf("{\"per_second\": %f}\n", count / (now() - start));
  SPF_server_free(server);
  return 0;
}

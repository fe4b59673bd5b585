#!/usr/bin/perl
# Mail::DKIM as an interop peer for the DKIM tests (RSA only; never touches DNS).
#   verify MSG KEYS     one line per signature: pass|fail|invalid|...
#   sign MSG KEY DOMAIN SEL CANON   prints the signed message
# KEYS: a file of "<name>\t<TXT record>" lines.
use strict;
use warnings;
use Mail::DKIM::Verifier;
use Mail::DKIM::Signer;
use Net::DNS;

my ($cmd, $msgfile, @rest) = @ARGV;
open(my $fh, '<:raw', $msgfile) or die "cannot read $msgfile";
my $msg = do { local $/; <$fh> };
close $fh;

if ($cmd eq 'verify') {
    my %keys;
    open(my $kf, '<', $rest[0]) or die;
    while (my $line = <$kf>) {
        chomp $line;
        my ($name, $rec) = split /\t/, $line, 2;
        $keys{lc $name} = $rec;
    }
    no warnings 'redefine';
    *Mail::DKIM::DNS::query = sub {
        my ($name, $type) = @_;
        my $rec = $keys{lc $name};
        return () unless defined $rec;
        my @chunks = unpack('(A255)*', $rec);
        return (Net::DNS::RR->new(name => $name, type => 'TXT', txtdata => \@chunks));
    };
    my $v = Mail::DKIM::Verifier->new(Strict => 1);
    $v->PRINT($msg);
    $v->CLOSE;
    print $_->result, "\n" for $v->signatures;
} elsif ($cmd eq 'sign') {
    my ($key, $domain, $sel, $canon) = @rest;
    my $s = Mail::DKIM::Signer->new(Algorithm => 'rsa-sha256', Method => $canon, Domain => $domain,
                                    Selector => $sel, KeyFile => $key);
    $s->PRINT($msg);
    $s->CLOSE;
    print $s->signature->as_string, "\r\n", $msg;
} else {
    exit 2;
}

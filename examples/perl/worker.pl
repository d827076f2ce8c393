#!/usr/bin/perl
# perl worker.pl [db] [queue] [worker_id]: claim, handle, ack; sleep until the next commit.
use strict;
use warnings;
use Cwd qw(abs_path);
use FindBin;
use lib $FindBin::Bin;
use JSON::PP;
use List::Util qw(max);
use Time::HiRes qw(time);
use HonkerDB;

my ($path, $queue, $worker) = ($ARGV[0] // 'app.db', $ARGV[1] // 'orders', $ARGV[2] // "perl-$$");
my $db = HonkerDB::connect($path);
$| = 1;
my $one = sub { my ($sql, @args) = @_; ($db->selectrow_array($sql, undef, @args))[0] };

# The watcher's poller thread wakes our wait on any commit to the file, from any process.
my $watcher = $one->(q{SELECT honker_update_watcher_open(?, NULL)}, abs_path($path));
# Registered: if this process dies, its jobs come back within about a second.
$one->('SELECT honker_worker_register(?)', $worker);

my $woke_ms = time * 1000;
while (1) {
    my $jobs = decode_json($one->('SELECT honker_claim_batch(?, ?, 10, 30)', $queue, $worker));  # up to 10, 30 s each
    for my $job (@$jobs) {
        my $payload = decode_json($job->{payload});    # the payload is a JSON string inside the JSON
        my $outcome;
        if ($payload->{fail}) {    # the handler failed: try again in 1 s (dead after max_attempts)
            $one->('SELECT honker_retry(?, ?, 1, ?)', $job->{id}, $worker, 'payload asked to fail');
            $outcome = 'retried';
        } else {                   # "ship" the order, then ack: the job is deleted
            $one->('SELECT honker_ack(?, ?)', $job->{id}, $worker);
            $outcome = 'acked';
        }
        print encode_json({ id => $job->{id}, attempts => $job->{attempts}, outcome => $outcome, woke_ms => $woke_ms }), "\n";
    }
    next if @$jobs;    # there may be more
    # Nothing due: sleep until a commit or the next due time (a retry's delay), never a fixed poll.
    my $next_at = $one->('SELECT honker_queue_next_claim_at(?)', $queue);    # unix s, 0 = nothing scheduled
    my $timeout_ms = $next_at == 0 ? -1 : max(0, int($next_at * 1000 - time * 1000));
    die "watcher died (database file replaced?)\n" if $one->('SELECT honker_update_watcher_wait(?, ?)', $watcher, $timeout_ms) < 0;
    $woke_ms = time * 1000;
}

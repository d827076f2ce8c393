#!/usr/bin/perl
# perl producer.pl [db] [queue] [count]: each order and its job commit together.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use JSON::PP;
use HonkerDB;

my ($path, $queue, $count) = ($ARGV[0] // 'app.db', $ARGV[1] // 'orders', $ARGV[2] // 1);
my $db = HonkerDB::connect($path);
$| = 1;
for my $n (0 .. $count - 1) {
    # IMMEDIATE takes the write lock now, so the transaction cannot fail half-way with SQLITE_BUSY.
    $db->do('BEGIN IMMEDIATE');
    $db->do('INSERT INTO orders(item) VALUES (?)', undef, "book $n");
    my $order = $db->sqlite_last_insert_rowid;
    # (queue, payload, run_at, delay_s, priority, max_attempts, expires_s)
    my ($job) = $db->selectrow_array('SELECT honker_enqueue(?, ?, NULL, NULL, 0, 3, NULL)',
        undef, $queue, encode_json({ order => $order }));
    $db->do('COMMIT');    # the order and its job exist together, or neither does
    print encode_json({ order => $order, job => $job }), "\n";
}

#!/usr/bin/perl
# A tidemark exec client for etcd's v3 JSON gateway, register workload, Perl 5 core modules only.
#
# tidemark writes one JSON request per line on stdin and reads one JSON answer per line from
# stdout (docs/client-protocol.md). Several ops are in flight at once, so the parent hands
# each request to an idle worker (a forked process, one op at a time) and forks another worker
# when none is idle: the pool grows to the number of ops in flight. A worker writes its answer
# to stdout in one syswrite(2) of one line, below PIPE_BUF, so lines never mix, then tells the
# parent it is idle again. Keys and values go to etcd base64-encoded; a value is stored as its
# JSON text.
use strict;
use warnings;
use HTTP::Tiny;
use IO::Handle;
use JSON::PP;
use MIME::Base64 qw(encode_base64 decode_base64);
use POSIX ();

my $JSON = JSON::PP->new->canonical->allow_nonref;
pipe(my $IDLE_R, my $IDLE_W) or die "pipe: $!";    # workers write "<index> " when idle
$IDLE_R->blocking(0);
$SIG{PIPE} = 'IGNORE';
my (@workers, @idle);    # {pid, in (its request pipe)}; indexes of idle ones

sub send_line { my $line = $JSON->encode($_[0]) . "\n"; syswrite(STDOUT, $line) }
sub b64 { encode_base64($_[0], '') }

# One POST to etcd: (decoded body, undef) on 200, else (undef, [kind, reason]) where kind is
# 'fail' when the request surely never reached etcd or etcd refused it, else 'unsure'.
sub post {
    my ($node, $path, $body, $timeout_ms) = @_;
    my $http = HTTP::Tiny->new(timeout => $timeout_ms / 1000, keep_alive => 0);
    my $url = "http://$node->{host}:$node->{port}$path";
    my $r = $http->post($url, {content => $JSON->encode($body),
                               headers => {'Content-Type' => 'application/json'}});
    if ($r->{status} == 599) {    # HTTP::Tiny's own error: connect, timeout, reset
        my $why = $r->{content} // '';
        chomp $why;
        return (undef, ['fail', "connection refused"]) if $why =~ /Could not connect/;
        return (undef, ['unsure', $why =~ /timed out/i ? 'timeout' : "transport: $why"]);
    }
    my $data = eval { $JSON->decode($r->{content}) };
    if ($r->{status} != 200) {    # gRPC InvalidArgument (3): refused, nothing applied
        my $code = ref $data eq 'HASH' ? $data->{code} // -1 : -1;
        my $msg = ref $data eq 'HASH' ? $data->{message} // $data->{error} // '' : '';
        return (undef, [$code == 3 ? 'fail' : 'unsure', "http $r->{status}: $msg"]);
    }
    return (undef, ['unsure', 'malformed response']) unless ref $data eq 'HASH';
    return ($data, undef);
}

# The answer for one op, by the outcome rule: ok, fail (surely not applied) or info.
sub perform {
    my ($req) = @_;
    my ($f, $key, $v) = @{$req}{qw(f key value)};
    die "not a register op: $f\n" unless defined $key;
    my ($path, $body);
    if ($f eq 'read') {
        ($path, $body) = ('/v3/kv/range', {key => b64($key)});
    } elsif ($f eq 'write') {
        ($path, $body) = ('/v3/kv/put', {key => b64($key), value => b64($JSON->encode($v))});
    } elsif ($f eq 'cas') {
        my $cmp = {key => b64($key), target => 'VALUE', result => 'EQUAL',
                   value => b64($JSON->encode($v->[0]))};
        my $put = {request_put => {key => b64($key), value => b64($JSON->encode($v->[1]))}};
        ($path, $body) = ('/v3/kv/txn', {compare => [$cmp], success => [$put]});
    } else {
        return {type => 'fail', error => "unknown op $f"};
    }
    my ($data, $err) = post($req->{node}, $path, $body, $req->{timeout_ms});
    if ($err) {    # a read changed nothing, so it is never info
        my $kind = $err->[0] eq 'fail' || $f eq 'read' ? 'fail' : 'info';
        return {type => $kind, error => $err->[1]};
    }
    if ($f eq 'read') {
        my $kv = ($data->{kvs} // [])->[0];
        return {type => 'ok', value => undef} unless $kv;
        my $value = eval { $JSON->decode(decode_base64($kv->{value} // '')) };
        return $@ ? {type => 'fail', error => "value is not JSON"} : {type => 'ok', value => $value};
    }
    return {type => 'fail', error => 'cas_failed'} if $f eq 'cas' && !$data->{succeeded};
    return {type => 'ok'};    # the invoked value stands
}

sub status {
    my ($req) = @_;
    my ($st, $err) = post($req->{node}, '/v3/maintenance/status', {}, $req->{timeout_ms});
    return {type => 'fail', error => $err->[1]} if $err;
    my ($members) = post($req->{node}, '/v3/cluster/member/list', {}, $req->{timeout_ms});
    my %name = map { ($_->{ID} // '') => $_->{name} } @{$members ? $members->{members} // [] : []};
    my ($self, $leader) = ($st->{header}{member_id} // '', $st->{leader} // '0');
    my $value = {role => $leader eq $self ? 'leader' : 'follower',
                 node => $name{$self} // $self, generation => 0 + ($st->{raftTerm} // 0),
                 hwm => 0 + ($st->{raftIndex} // 0)};
    $value->{leader} = $name{$leader} // $leader if $leader ne '0';
    return {type => 'ok', value => $value};
}

sub answer {
    my ($req) = @_;
    my $answer = eval { $req->{type} eq 'status' ? status($req) : perform($req) }
        // {type => ($req->{f} // 'read') eq 'read' ? 'fail' : 'info',    # unsure: info
            error => "client error: $@"};
    $answer->{id} = $req->{id};
    send_line($answer);
}

sub start_worker {
    my $index = @workers;
    return undef if $index >= 100 || !pipe(my $in_r, my $in_w);
    my $pid = fork // return undef;
    if ($pid == 0) {    # the worker: one request line at a time until its pipe closes
        close $_->{in} for @workers;
        close $in_w;
        while (my $line = <$in_r>) { answer($JSON->decode($line)); syswrite($IDLE_W, "$index ") }
        POSIX::_exit(0);
    }
    close $in_r;
    push @workers, {pid => $pid, in => $in_w};
    return $index;
}

sub dispatch {
    my ($req, $line) = @_;
    while (sysread($IDLE_R, my $buf, 4096)) { push @idle, split ' ', $buf }    # does not block
    my $w = @idle ? shift @idle : start_worker();
    if (!defined $w && @workers) {    # no more processes: wait until a worker is done
        $IDLE_R->blocking(1);
        sysread($IDLE_R, my $buf, 4096);
        $IDLE_R->blocking(0);
        push @idle, split ' ', $buf;
        $w = shift @idle;
    }
    return send_line({id => $req->{id}, type => 'fail', error => "no worker: $!"}) unless defined $w;
    syswrite($workers[$w]{in}, $line);    # nothing was sent to etcd yet: fail above is definite
}

my $shutdown = 0;
while (my $line = <STDIN>) {
    my $req = eval { $JSON->decode($line) };
    if (ref $req ne 'HASH') { warn "not a JSON object: $line"; next }
    my $type = $req->{type} // '';
    if ($type eq 'hello') { send_line({type => 'ready', protocol => 1}) }
    elsif ($type eq 'shutdown') { $shutdown = 1; last }
    elsif ($type eq 'op' || $type eq 'status') { dispatch($req, $line) }
}
close $_->{in} for @workers;    # a worker exits once its pipe is drained
kill 'KILL', map { $_->{pid} } @workers if $shutdown;    # answers owed are of no interest now
waitpid($_->{pid}, 0) for @workers;

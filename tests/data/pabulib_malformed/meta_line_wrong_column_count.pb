META
key;value
description;tiny test round
country;Testland
unit;Testville
instance;2026
num_projects;3
num_votes;3
budget;1000
vote_type;approval
rule;greedy
comment;#1: a comment; with a bare semicolon
PROJECTS
project_id;cost;votes;name
1;500;2;Park
2;400;2;Bench
3;300;1;Lamp
VOTES
voter_id;vote;age
v1;1,2;30
v2;1,3;41
v3;2;52

# LocalStack pins shared by host mode (install_localstack.sh) and the image
# (build_localstack_image.sh); sourced by both, so the two never drift apart.
LOCALSTACK_VERSION="4.14.0"
# What LocalStack 4.14.0's Kinesis provider pins (services/kinesis/packages.py).
KINESIS_LOCAL_VERSION="0.5.2"
# localstack-core 4.14.0 was uploaded between 2026-02-25 and 2026-03-01: its
# open-ended requirements are resolved against the registry as of this instant.
DEPS_CUTOFF="2026-03-01T00:00:00Z"

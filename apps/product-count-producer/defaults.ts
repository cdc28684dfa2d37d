/** The relay's timing (ms) unless told otherwise (`dasy product-count-producer --max-delay --quiet`). */
export const RELAY_DEFAULTS = { quietMs: 100, maxDelayMs: 1000, pollMs: 1000, page: 20_000 };

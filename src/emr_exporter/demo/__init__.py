"""The synthetic demo clinic, its loader into other engines, and throwaway demo keys."""

/** The SDK's version, sent in `user-agent`; a test keeps it equal to package.json's. */
export const VERSION = '0.1.0';

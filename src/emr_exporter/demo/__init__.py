"""The synthetic demo clinic, its loader into other engines, and throwaway demo keys.

Every name of the demo material is spelled here once: file names, folders and the demo certificate's password.
"""

DEMO_CONNECTOR = "demo"
DEMO_DB_NAME = "demo-clinic.sqlite"
DEMO_ATTACHMENTS = "attachments"  # the demo connector's default attachment root, beside the database
DEMO_PATIENTS = 200
DEMO_SEED = 20260701
APP_DEMO_FOLDER = "demo"  # the wizard's demo clinic lives in <app data>/demo/

DEMO_P12_PASSWORD = "demo"  # throwaway demo material, printed by `emr-export demo`
KEYS_FOLDER = "demo-keys"  # beside the demo clinic: <out>/demo-keys/
INSTITUTION_P12 = "institution.p12"
CA_CERT = "demo-ca.pem"
STORE_CERT = "store-cert.pem"
STORE_KEY = "store-key.pem"

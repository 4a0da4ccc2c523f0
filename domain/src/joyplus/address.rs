//! Ethereum-style addresses: the last 20 bytes of the keccak-256 of an uncompressed
//! secp256k1 public key, written with the EIP-55 mixed-case checksum.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha3::{Digest, Keccak256};

use crate::error::DomainError;

/// Bytes in an address.
const ADDRESS_BYTES: usize = 20;
/// Bytes in an uncompressed public key without its `0x04` prefix.
const PUBLIC_KEY_BYTES: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EthAddress([u8; ADDRESS_BYTES]);

impl EthAddress {
    /// `0x` and 40 hex digits. All-lowercase and all-uppercase are accepted as they are;
    /// mixed case must carry a valid EIP-55 checksum, so a mistyped address is refused.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let digits = text.strip_prefix("0x").ok_or(DomainError::AddressInvalid)?;
        if digits.len() != 2 * ADDRESS_BYTES {
            return Err(DomainError::AddressInvalid);
        }
        let mut bytes = [0_u8; ADDRESS_BYTES];
        hex::decode_to_slice(digits, &mut bytes).map_err(|_| DomainError::AddressInvalid)?;
        let address = Self(bytes);
        let mixed_case =
            digits.bytes().any(|b| b.is_ascii_lowercase()) && digits.bytes().any(|b| b.is_ascii_uppercase());
        if mixed_case && address.checksummed() != text {
            return Err(DomainError::AddressChecksumInvalid);
        }
        Ok(address)
    }

    /// The address of a secp256k1 public key given uncompressed (65 bytes, `0x04` first).
    pub fn from_uncompressed_public_key(key: &[u8; PUBLIC_KEY_BYTES + 1]) -> Self {
        let hash = Keccak256::digest(&key[1..]);
        let mut bytes = [0_u8; ADDRESS_BYTES];
        bytes.copy_from_slice(&hash[hash.len() - ADDRESS_BYTES..]);
        Self(bytes)
    }

    /// EIP-55: a hex letter is upper case where the keccak-256 of the lower-case hex has a
    /// nibble of 8 or more.
    pub fn checksummed(&self) -> String {
        let lower = hex::encode(self.0);
        let hash = Keccak256::digest(lower.as_bytes());
        let digits: String = lower
            .chars()
            .enumerate()
            .map(|(index, digit)| {
                let nibble = (hash[index / 2] >> (if index % 2 == 0 { 4 } else { 0 })) & 0x0f;
                if nibble >= 8 {
                    digit.to_ascii_uppercase()
                } else {
                    digit
                }
            })
            .collect();
        format!("0x{digits}")
    }

    /// All lower case: the form addresses are compared and indexed in.
    pub fn lowercase(&self) -> String {
        format!("0x{}", hex::encode(self.0))
    }
}

impl fmt::Display for EthAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.checksummed())
    }
}

impl TryFrom<String> for EthAddress {
    type Error = DomainError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<EthAddress> for String {
    fn from(address: EthAddress) -> Self {
        address.checksummed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vectors of EIP-55 itself.
    const EIP55_VECTORS: [&str; 4] = [
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    ];

    #[test]
    fn checksums_match_the_eip55_test_vectors() {
        for vector in EIP55_VECTORS {
            let address = EthAddress::parse(&vector.to_lowercase()).unwrap();
            assert_eq!(address.checksummed(), vector);
            assert_eq!(EthAddress::parse(vector).unwrap(), address);
        }
    }

    #[test]
    fn a_mixed_case_address_with_a_wrong_checksum_is_refused() {
        let mistyped = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD";
        assert_eq!(EthAddress::parse(mistyped), Err(DomainError::AddressChecksumInvalid));
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for text in [
            "",
            "0x",
            "5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
            "0x5aaeb6053f3e94c9b9a09f33669435e7ef1bea",
            "0xzzaeb6053f3e94c9b9a09f33669435e7ef1beaed",
        ] {
            assert_eq!(EthAddress::parse(text), Err(DomainError::AddressInvalid), "{text}");
        }
    }

    #[test]
    fn the_address_of_a_known_public_key_is_derived_with_keccak() {
        // The key of private key 1 (the secp256k1 generator point); its address is well known.
        let generator = hex::decode(
            "0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798\
             483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8",
        )
        .unwrap();
        let key: [u8; 65] = generator.try_into().unwrap();
        assert_eq!(
            EthAddress::from_uncompressed_public_key(&key).checksummed(),
            "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
        );
    }
}
